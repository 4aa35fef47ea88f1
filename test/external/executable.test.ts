/**
 * OCM-style executable plugins: capabilities at load, lazy start, bounded waits, log forwarding, idle stop,
 * restart on the next call, and close() stopping every process (SIGTERM, grace, SIGKILL) with no orphan left.
 */
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHost, createRegistry, PluginHookError, type Host, type PluginProcessEvent, type PluginRegistry } from "hookplugins";
import { loadExternalPlugins, type ExternalPluginOptions, type ExternalPlugins } from "hookplugins/external";
import { tempDir, waitFor } from "./helpers.js";

const fixture = join(dirname(fileURLToPath(import.meta.url)), "fixtures", "fakeExecutable.mjs");

let tmp: { dir: string; cleanup(): Promise<void> };
let execDir: string;
let registry: PluginRegistry;
let external: ExternalPlugins | undefined;
let host: Host | undefined;
let processes: PluginProcessEvent[];

beforeEach(async () => {
  tmp = await tempDir();
  execDir = join(tmp.dir, "plugins");
  await mkdir(execDir);
  registry = createRegistry();
  processes = [];
});
afterEach(async () => {
  await host?.close();
  await external?.close();
  host = undefined;
  external = undefined;
  await tmp.cleanup();
});

async function addExecutable(name: string, env: Record<string, string> = {}): Promise<string> {
  const path = join(execDir, name);
  const vars = Object.entries({ FAKE_NAME: name, ...env }).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(" ");
  await writeFile(path, `#!/bin/sh\n${vars} exec ${JSON.stringify(process.execPath)} ${JSON.stringify(fixture)} "$@"\n`);
  await chmod(path, 0o755);
  return path;
}

async function load(options: ExternalPluginOptions = {}): Promise<Host> {
  external = await loadExternalPlugins(registry, { executableDirs: [execDir] }, { runDir: join(tmp.dir, "run"), ...options });
  host = createHost({ registry, external, timeoutMs: 30_000 });
  host.events.on("pluginProcess", (e) => processes.push(e));
  return host;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("executable plugins", () => {
  it("are registered from their capabilities without starting a process", async () => {
    const path = await addExecutable("fake");
    const h = await load();
    expect(external!.list()).toMatchObject([{ name: "fake", running: false, pid: undefined, source: { kind: "executable", location: path } }]);
    expect(h.explain()["ContainerPlugin.preCreate"]).toEqual([{ plugin: "fake", priority: 1, enabled: true, source: { kind: "executable", location: path } }]);
    expect(processes).toEqual([]);
  });

  it("start on the first call and serve it", async () => {
    await addExecutable("fake");
    const h = await load();
    const result = await h.container.preCreate({ Image: "x" });
    const pid = Number(result.Labels?.["pid"]);
    expect(pid).toBeGreaterThan(0);
    expect(external!.list()[0]).toMatchObject({ running: true, pid });
    expect(processes.map((p) => p.state)).toEqual(["started"]);
  });

  it("keep their socket in a folder only the host's user can enter, the socket mode 0600", async () => {
    await addExecutable("fake");
    const h = await load();
    await h.container.preCreate({ Image: "x" });
    const runDir = join(tmp.dir, "run");
    expect(statSync(runDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(runDir, "fake.sock")).mode & 0o777).toBe(0o600);
  });

  it("forward each output line as a pluginLog event, with the level of JSON lines", async () => {
    await addExecutable("fake", { FAKE_LOG: "1" });
    const h = await load();
    const logs: unknown[] = [];
    h.events.on("pluginLog", (e) => logs.push(e));
    await h.container.preCreate({ Image: "x" });
    await waitFor(() => logs.length >= 2, 2000, "two log lines");
    expect(logs).toEqual([
      { plugin: "fake", line: "plain line", level: undefined, stream: "stderr" },
      { plugin: "fake", line: '{"level":"warn","msg":"structured"}', level: "warn", stream: "stderr" },
    ]);
  });

  it("stop after the idle time and start again on the next call", async () => {
    await addExecutable("fake");
    const h = await load({ executables: { idleTimeoutMs: 150 } });
    const first = Number((await h.container.preCreate({ Image: "x" })).Labels?.["pid"]);
    await waitFor(() => processes.some((p) => p.state === "stopped"), 3000, "the idle stop");
    expect(processes.find((p) => p.state === "stopped")).toMatchObject({ reason: "idle", pid: first });
    expect(alive(first)).toBe(false);
    expect(external!.list()[0]!.running).toBe(false);
    const second = Number((await h.container.preCreate({ Image: "x" })).Labels?.["pid"]);
    expect(second).not.toBe(first);
  });

  it("fail a call at once when the process dies during it, and start again on the next call", async () => {
    await addExecutable("fake", { FAKE_CRASH_MARKER: join(tmp.dir, "crashed") });
    const h = await load();
    const started = Date.now();
    const error = await h.container.preCreate({ Image: "x" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PluginHookError);
    expect(error).toMatchObject({ plugin: "fake", hook: "ContainerPlugin.preCreate" });
    expect((error as Error).message).toMatch(/connection to the plugin broke|closed the connection/);
    expect(Date.now() - started).toBeLessThan(10_000); // far below the 30 s limit
    const result = await h.container.preCreate({ Image: "x" });
    expect(Number(result.Labels?.["pid"])).toBeGreaterThan(0);
  });

  it("wait for a slow start", async () => {
    await addExecutable("fake", { FAKE_SLOW_START_MS: "400" });
    const h = await load();
    expect((await h.container.preCreate({ Image: "x" })).Labels?.["pid"]).toBeDefined();
  });

  it("fail with a clear error when the process never accepts on its socket, and stop it", async () => {
    await addExecutable("fake", { FAKE_NEVER_LISTEN: "1" });
    const h = await load({ executables: { startTimeoutMs: 300, stopGraceMs: 200 } });
    const error = await h.container.preCreate({ Image: "x" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PluginHookError);
    expect((error as Error).message).toMatch(/plugin "fake" failed in ContainerPlugin.preCreate: executable plugin "fake" .* did not accept connections on .*fake\.sock within 300 ms/);
    expect(processes.at(-1)).toMatchObject({ state: "stopped", reason: "start-failed" });
    expect(alive(processes.at(-1)!.pid!)).toBe(false);
  });

  it("fail to load when `capabilities` does not finish in time", async () => {
    await addExecutable("fake", { FAKE_CAPS_HANG: "1" });
    await expect(load({ executables: { capabilitiesTimeoutMs: 300 } })).rejects.toThrow(/`capabilities` did not finish within 300 ms/);
  });

  it("fail to load when the executable's Name differs from its file name, saying both", async () => {
    await addExecutable("fake", { FAKE_NAME: "other" });
    await expect(load()).rejects.toThrow(/Name is "other" but it was found as "fake"/);
  });

  it("are stopped by host.close(): SIGKILL after the grace period when SIGTERM is ignored, socket and folder removed", async () => {
    await addExecutable("fake", { FAKE_IGNORE_TERM: "1" });
    const h = await load({ executables: { stopGraceMs: 200 }, runDir: undefined });
    const pid = Number((await h.container.preCreate({ Image: "x" })).Labels?.["pid"]);
    const socket = external!.list()[0]!;
    expect(socket.running).toBe(true);
    await h.close();
    host = undefined;
    expect(alive(pid)).toBe(false);
    expect(processes.at(-1)).toMatchObject({ state: "stopped", reason: "close", signal: "SIGKILL" });
    expect(existsSync(join(tmp.dir, "run"))).toBe(false);
  });
});
