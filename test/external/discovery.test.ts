/**
 * Where external plugins come from (sockets, spec files, executables, as Docker and OCM), and Docker-style lookup:
 * one shared activation, retried with backoff while the plugin is not there yet, then an error saying where it looked.
 */
import { spawnSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createRegistry, type PluginRegistry } from "hookplugins";
import { discoverPlugins, listenV1Plugin, loadExternalPlugins, serve, type ExternalPlugins, type V1PluginServer } from "hookplugins/external";
import { sleep, tempDir } from "./helpers.js";

let tmp: { dir: string; cleanup(): Promise<void> };
let closers: Array<() => Promise<unknown>>;
let registry: PluginRegistry;

beforeEach(async () => {
  tmp = await tempDir();
  closers = [];
  registry = createRegistry();
});
afterEach(async () => {
  for (const close of closers.reverse()) await close();
  await tmp.cleanup();
});

const plugin = (name: string, priority = 0): object => ({ name, priority, preCreate: () => undefined });

async function serveAt(socket: string, name: string): Promise<void> {
  const server = await serve(plugin(name), { socket, handleSignals: false });
  closers.push(() => server.close());
}

async function loadFrom(sources: Parameters<typeof loadExternalPlugins>[1], options: Parameters<typeof loadExternalPlugins>[2] = {}): Promise<ExternalPlugins> {
  const set = await loadExternalPlugins(registry, sources, { retryTotalMs: 300, retryInitialDelayMs: 50, ...options });
  closers.push(() => set.close());
  return set;
}

describe("discovery", () => {
  it("finds <dir>/<name>.sock and <dir>/<name>/<name>.sock", async () => {
    const dir = join(tmp.dir, "sock");
    await mkdir(join(dir, "nested"), { recursive: true });
    await serveAt(join(dir, "flat.sock"), "flat");
    await serveAt(join(dir, "nested", "nested.sock"), "nested");
    const set = await loadFrom({ socketDirs: [dir] });
    expect(set.list().map((p) => [p.name, p.source])).toEqual([
      ["flat", { kind: "socket", location: join(dir, "flat.sock") }],
      ["nested", { kind: "socket", location: join(dir, "nested", "nested.sock") }],
    ]);
  });

  it("reads a .spec file holding one unix:// URL", async () => {
    const specs = join(tmp.dir, "specs");
    await mkdir(specs);
    await serveAt(join(tmp.dir, "elsewhere.sock"), "byspec");
    await writeFile(join(specs, "byspec.spec"), `unix://${join(tmp.dir, "elsewhere.sock")}\n`);
    const set = await loadFrom({ specDirs: [specs] });
    expect(set.list()[0]).toMatchObject({ name: "byspec", source: { kind: "spec", location: join(specs, "byspec.spec") } });
  });

  it("reads a .json spec file with Name and Addr", async () => {
    const specs = join(tmp.dir, "specs");
    await mkdir(specs);
    await serveAt(join(tmp.dir, "j.sock"), "byjson");
    await writeFile(join(specs, "byjson.json"), JSON.stringify({ Name: "byjson", Addr: `unix://${join(tmp.dir, "j.sock")}`, TLSConfig: null }));
    const set = await loadFrom({ specDirs: [specs] });
    expect(set.list().map((p) => p.name)).toEqual(["byjson"]);
  });

  it("ignores tcp:// spec files unless the host allows TCP, and says why", async () => {
    const specs = join(tmp.dir, "specs");
    await mkdir(specs);
    const server = await serve(plugin("overtcp"), { port: 0, handleSignals: false });
    closers.push(() => server.close());
    await writeFile(join(specs, "overtcp.spec"), `tcp://127.0.0.1:${server.port}`);
    const refused = await discoverPlugins({ specDirs: [specs] });
    expect(refused.plugins).toEqual([]);
    expect(refused.problems[0]!.problem).toMatch(/TCP plugins are not allowed here; set "allowTcp": true/);
    const set = await loadFrom({ specDirs: [specs], allowTcp: true });
    expect(set.list()[0]).toMatchObject({ name: "overtcp", source: { kind: "spec" } });
  });

  it("reports a spec file that is not usable as a problem, not a crash", async () => {
    const specs = join(tmp.dir, "specs");
    await mkdir(specs);
    await writeFile(join(specs, "broken.json"), "{nope");
    await writeFile(join(specs, "empty.spec"), "");
    const found = await discoverPlugins({ specDirs: [specs] });
    expect(found.problems.map((p) => p.problem)).toEqual([expect.stringMatching(/not valid JSON/), expect.stringMatching(/empty spec file/)]);
  });

  it("lets the first of two same-named plugins win: sockets before spec files", async () => {
    const dir = join(tmp.dir, "sock");
    const specs = join(tmp.dir, "specs");
    await mkdir(dir);
    await mkdir(specs);
    await serveAt(join(dir, "dup.sock"), "dup");
    await writeFile(join(specs, "dup.spec"), `unix://${join(dir, "dup.sock")}`);
    const found = await discoverPlugins({ socketDirs: [dir], specDirs: [specs] });
    expect(found.plugins.map((p) => p.source.kind)).toEqual(["socket"]);
    expect(found.problems[0]!.problem).toMatch(/already found earlier/);
  });

  it("registers plugins in lookup order, so that equal priorities tie-break by it", async () => {
    const dir = join(tmp.dir, "sock");
    await mkdir(dir);
    for (const name of ["c", "a", "b"]) await serveAt(join(dir, `${name}.sock`), name);
    await loadFrom({ socketDirs: [dir] });
    expect(registry.list().map((p) => p.name)).toEqual(["a", "b", "c"]);
  });
});

describe("lookup by name (Docker's plugins.Get)", () => {
  it("waits for a plugin that is not there yet, with backoff", async () => {
    const dir = join(tmp.dir, "sock");
    await mkdir(dir);
    const set = await loadFrom({ socketDirs: [dir] }, { retryTotalMs: 3000 });
    setTimeout(() => void serveAt(join(dir, "late.sock"), "late"), 300);
    const info = await set.get("late", "ContainerPlugin");
    expect(info.name).toBe("late");
    expect(registry.list().map((p) => p.name)).toEqual(["late"]);
  });

  it("activates once for concurrent callers", async () => {
    const dir = join(tmp.dir, "sock");
    await mkdir(dir);
    const set = await loadFrom({ socketDirs: [dir] });
    let activations = 0;
    const server: V1PluginServer = await listenV1Plugin({
      socket: join(dir, "once.sock"),
      implements: ["ContainerPlugin"],
      handlers: {
        "Plugin.Activate": async () => {
          activations++;
          await sleep(50);
          return { Implements: ["ContainerPlugin"] };
        },
        "Plugin.Capabilities": () => ({ Name: "once", Plugins: [{ Type: "ContainerPlugin", Hooks: ["preCreate"] }] }),
      },
    });
    closers.push(() => server.close());
    const infos = await Promise.all(Array.from({ length: 5 }, () => set.get("once")));
    expect(infos.map((i) => i.name)).toEqual(["once", "once", "once", "once", "once"]);
    expect(activations).toBe(1);
    expect(registry.list()).toHaveLength(1);
  });

  it("fails after the retry budget with an error naming the plugin and where it looked", async () => {
    const dir = join(tmp.dir, "sock");
    await mkdir(dir);
    const set = await loadFrom({ socketDirs: [dir] }, { retryTotalMs: 200 });
    const started = Date.now();
    await expect(set.get("ghost")).rejects.toThrow(new RegExp(`cannot load external plugin "ghost" from socket dirs ${dir}: no plugin of that name was found within 200 ms`));
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("refuses a plugin that does not implement the interface asked for", async () => {
    const dir = join(tmp.dir, "sock");
    await mkdir(dir);
    await serveAt(join(dir, "c.sock"), "c");
    const set = await loadFrom({ socketDirs: [dir] });
    await expect(set.get("c", "VolumePlugin")).rejects.toThrow(/does not implement VolumePlugin \(it implements ContainerPlugin\)/);
  });

  it("dials again with backoff while a found socket refuses connections, then names the plugin and why", async () => {
    const dir = join(tmp.dir, "sock");
    await mkdir(dir);
    const socket = join(dir, "dead.sock");
    // a process that listens and dies at once leaves its socket file behind: connections are refused
    spawnSync(process.execPath, ["-e", `require("net").createServer().listen(${JSON.stringify(socket)}, () => process.kill(process.pid, "SIGKILL"))`], { stdio: "ignore" });
    const started = Date.now();
    await expect(loadFrom({ socketDirs: [dir] }, { retryTotalMs: 400, retryInitialDelayMs: 50 })).rejects.toThrow(/cannot load external plugin "dead" from .*dead\.sock.*nothing accepts connections there/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });
});
