/**
 * The Python example plugin (examples/python-plugin, standard library only) against a real host: as an executable
 * and as a socket plugin, and the example host program itself.
 */
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, expect, it } from "vitest";
import { createHost, createRegistry, PluginHookError, type CliCommandSpec, type Host, type PluginLogEvent } from "hookplugins";
import { loadExternalPlugins, type ExternalPlugins } from "hookplugins/external";
import { describeWithTools } from "../support/tools.js";
import { waitFor } from "./helpers.js";

const repoRoot = resolve(import.meta.dirname, "../..");
const pluginDir = join(repoRoot, "examples/python-plugin/plugins");

let host: Host | undefined;
let external: ExternalPlugins | undefined;
afterEach(async () => {
  await host?.close();
  await external?.close();
  host = undefined;
  external = undefined;
});

describeWithTools(["python3"], "the Python example plugin", () => {
  it("runs as an executable: labels the container, asks for a prestart hook, logs JSON lines", async () => {
    const registry = createRegistry();
    external = await loadExternalPlugins(registry, { executableDirs: [pluginDir] });
    host = createHost({ registry, external });
    const logs: PluginLogEvent[] = [];
    host.events.on("pluginLog", (e) => logs.push(e));
    const config = await host.container.preCreate({ Image: "busybox", Env: ["TEAM=storage"] });
    expect(config.Labels).toEqual({ "example.com/team": "storage" });
    expect(await host.container.preStart({ Id: "c1" } as never)).toEqual([{ priority: 5, path: "/bin/true", args: ["labelpolicy"] }]);
    await waitFor(() => logs.some((l) => l.level === "info"), 3000, "the plugin's serving line");
    expect(logs[0]).toMatchObject({ plugin: "labelpolicy", level: "info", stream: "stderr" });
  });

  it("refuses an image with its Err, as a PluginHookError naming plugin and hook", async () => {
    const registry = createRegistry();
    external = await loadExternalPlugins(registry, { executableDirs: [pluginDir] });
    host = createHost({ registry, external });
    const error = await host.container.preCreate({ Image: "evil.example.org/miner" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PluginHookError);
    expect((error as Error).message).toMatch(/^plugin "labelpolicy" failed in ContainerPlugin\.preCreate: image 'evil\.example\.org\/miner' is not from an allowed registry/);
  });

  it("supplies dir: images as an image driver, says not mine for others, and fails a broken dir: image", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hookplugins-py-image-"));
    try {
      await mkdir(join(dir, "app", "rootfs"), { recursive: true });
      await writeFile(join(dir, "app", "config.json"), JSON.stringify({ Cmd: ["/bin/app"] }));
      const registry = createRegistry();
      external = await loadExternalPlugins(registry, { executableDirs: [pluginDir] });
      host = createHost({ registry, external });
      expect(await host.image.resolveImage(`dir:${join(dir, "app")}`)).toEqual({
        plugin: "labelpolicy",
        image: { ref: `dir:${join(dir, "app")}`, rootfs: join(dir, "app", "rootfs"), config: { Cmd: ["/bin/app"] } },
      });
      expect(await host.image.resolveImage("alpine:3")).toBeUndefined();
      const error = await host.image.resolveImage(`dir:${join(dir, "missing")}`).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PluginHookError);
      expect((error as Error).message).toMatch(/^plugin "labelpolicy" failed in ImagePlugin\.resolveImage: dir:.*missing\/rootfs is not a folder/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("observes a container's start and exit, logging each", async () => {
    const registry = createRegistry();
    external = await loadExternalPlugins(registry, { executableDirs: [pluginDir] });
    host = createHost({ registry, external });
    const logs: PluginLogEvent[] = [];
    host.events.on("pluginLog", (e) => logs.push(e));
    expect(await host.container.postStart({ Id: "c1" } as never)).toEqual({ failures: [] });
    const exit = { code: 137, signal: "SIGKILL" as const, oomKilled: true, finishedAt: "2024-01-01T00:00:00Z" };
    expect(await host.container.onExit({ Id: "c1" } as never, exit)).toEqual({ failures: [] });
    await waitFor(() => logs.some((l) => l.line.includes("container exited")), 3000, "the plugin's exit line");
    expect(logs.find((l) => l.line.includes("container exited"))?.line).toMatch(/"code": 137, "signal": "SIGKILL", "oom": true/);
  });

  it("adds a CLI command next to the host's locked built-ins, which runs over RunCommand with its options", async () => {
    const registry = createRegistry();
    external = await loadExternalPlugins(registry, { executableDirs: [pluginDir] });
    host = createHost({ registry, external });
    const serve: CliCommandSpec = { name: "serve", description: "run the daemon", options: [{ flags: "--socket <path>", description: "where" }], action: () => 0, locked: true };
    const commands = await host.cli.updateCommands([serve]);
    expect(commands.map((c) => [c.name, c.plugin, c.locked])).toEqual([["serve", undefined, true], ["labelpolicy-registries", "labelpolicy", undefined]]);
    const lines: string[] = [];
    expect(await commands[1]!.action({ args: [], options: {}, out: (line) => void lines.push(line) })).toBe(0);
    expect(lines).toEqual(["busybox", "docker.io/library/", "registry.example.com/"]);
    const counted: string[] = [];
    await commands[1]!.action({ args: [], options: { count: true }, out: (line) => void counted.push(line) });
    expect(counted).toEqual(["3"]);
  });

  it("runs as a socket plugin that the host finds in a socket folder", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hookplugins-py-"));
    const child = spawn(join(pluginDir, "labelpolicy.py"), ["serve", "--socket", join(dir, "labelpolicy.sock")], { stdio: "ignore" });
    try {
      const registry = createRegistry();
      external = await loadExternalPlugins(registry, { socketDirs: [dir] }, { retryTotalMs: 10_000 });
      await external.get("labelpolicy", "ContainerPlugin"); // the interpreter may still be starting: wait for its socket
      host = createHost({ registry, external });
      expect((await host.container.preCreate({ Image: "busybox" })).Labels).toEqual({ "example.com/team": "unknown" });
    } finally {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
      expect(existsSync(join(dir, "labelpolicy.sock"))).toBe(false);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("works with the example host program", async () => {
    const out = await new Promise<string>((resolvePromise, reject) => {
      execFile(process.execPath, ["--import", "tsx", "examples/python-plugin/host.ts"], { cwd: repoRoot, timeout: 30_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolvePromise(stdout),
      );
    });
    expect(out).toContain('labels: {"example.com/team":"storage"}');
    expect(out).toContain('refused: plugin "labelpolicy" failed in ContainerPlugin.preCreate');
    expect(out).toMatch(/\[labelpolicy\] process stopped \(close\)\nclosed\n$/);
  });
});
