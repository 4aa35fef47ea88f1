/**
 * A plugin object served in its own server and loaded back as an external plugin behaves as it does in-process:
 * every hook point across the wire, order with in-process plugins, errors, time limits, fail policies, explain, disable;
 * a command an external CliPlugin adds runs over CliPlugin.RunCommand.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { text } from "node:stream/consumers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createHost,
  createRegistry,
  PluginHookError,
  PluginTimeoutError,
  type CliCommandSpec,
  type ContainerExit,
  type ContainerCreateConfig,
  type ContainerPlugin,
  type Host,
  type PluginRegistry,
} from "hookplugins";
import { loadExternalPlugins, serve, type ExternalPlugins, type HookPluginServer } from "hookplugins/external";
import { post, tempDir } from "./helpers.js";

let tmp: { dir: string; cleanup(): Promise<void> };
let servers: HookPluginServer[] = [];
let registry: PluginRegistry;
let external: ExternalPlugins | undefined;
let host: Host | undefined;
let socketDir: string;

beforeEach(async () => {
  tmp = await tempDir();
  socketDir = join(tmp.dir, "sockets");
  await mkdir(socketDir);
  registry = createRegistry();
});
afterEach(async () => {
  await host?.close();
  await external?.close();
  host = undefined;
  external = undefined;
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
  await tmp.cleanup();
});

async function serveIn(dir: string, plugin: object | object[], name?: string): Promise<HookPluginServer> {
  const first = (Array.isArray(plugin) ? plugin[0] : plugin) as { name: string };
  const server = await serve(plugin, { socket: join(dir, `${name ?? first.name}.sock`), handleSignals: false });
  servers.push(server);
  return server;
}

async function load(options: Parameters<typeof loadExternalPlugins>[2] = {}): Promise<Host> {
  external = await loadExternalPlugins(registry, { socketDirs: [socketDir] }, { retryTotalMs: 500, ...options });
  host = createHost({ registry, external, timeoutMs: 2000 });
  return host;
}

const labeler: ContainerPlugin = {
  name: "labeler",
  priority: 5,
  version: "1.2.3",
  description: "labels containers",
  preCreate(_ctx, config) {
    config.Labels = { ...config.Labels, labeled: "yes" };
  },
};

describe("external plugins through the wire", () => {
  it("give the same preCreate result as the same object in-process", async () => {
    const input: ContainerCreateConfig = { Image: "busybox", Env: ["A=1"] };
    const local = createRegistry();
    local.registerContainerPlugin(labeler);
    const expected = await createHost({ registry: local }).container.preCreate(structuredClone(input));
    await serveIn(socketDir, labeler);
    const h = await load();
    expect(await h.container.preCreate(structuredClone(input))).toEqual(expected);
  });

  it("are registered with their capabilities: name, priority, version, description", async () => {
    await serveIn(socketDir, labeler);
    await load();
    const [entry] = registry.list();
    expect(entry).toMatchObject({ name: "labeler", type: "ContainerPlugin", priority: 5, version: "1.2.3", description: "labels containers", hooks: ["ContainerPlugin.preCreate"] });
  });

  it("show their socket as their source in explain()", async () => {
    const server = await serveIn(socketDir, labeler);
    const h = await load();
    expect(h.explain()["ContainerPlugin.preCreate"]).toEqual([{ plugin: "labeler", priority: 5, enabled: true, source: { kind: "socket", location: server.socketPath } }]);
  });

  it("run in one order with in-process plugins: priority first, then in-process before external at a tie", async () => {
    const calls: string[] = [];
    const tag = (name: string, priority: number): ContainerPlugin => ({ name, priority, preCreate: () => void calls.push(name) });
    registry.registerContainerPlugin(tag("local-high", 10));
    registry.registerContainerPlugin(tag("local-tie", 5));
    registry.registerContainerPlugin(tag("local-low", 0));
    await serveIn(socketDir, {
      name: "remote",
      priority: 5,
      preCreate: (_ctx: unknown, config: ContainerCreateConfig) => ({ ...config, Labels: { remote: "1" } }),
    });
    const h = await load();
    const result = await h.container.preCreate({ Image: "x" });
    expect(result.Labels).toEqual({ remote: "1" });
    expect(h.explain()["ContainerPlugin.preCreate"].map((e) => e.plugin)).toEqual(["local-high", "local-tie", "remote", "local-low"]);
    expect(calls).toEqual(["local-high", "local-tie", "local-low"]);
  });

  it("fail with a PluginHookError naming the plugin and the hook, whose cause's message is the plugin's error", async () => {
    await serveIn(socketDir, { name: "denier", preCreate: () => { throw new Error("images from docker.io are not allowed"); } });
    const h = await load();
    const error = await h.container.preCreate({ Image: "docker.io/x" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PluginHookError);
    expect(error).toMatchObject({ plugin: "denier", hook: "ContainerPlugin.preCreate" });
    expect((error as PluginHookError).message).toBe('plugin "denier" failed in ContainerPlugin.preCreate: images from docker.io are not allowed');
    expect(((error as PluginHookError).cause as Error).message).toBe("images from docker.io are not allowed");
  });

  it("are skipped and reported under fail-open", async () => {
    await serveIn(socketDir, { name: "flaky", failPolicy: "fail-open", preCreate: () => { throw new Error("boom"); } });
    const h = await load();
    const errors: string[] = [];
    h.events.on("hookError", (e) => errors.push(`${e.plugin}:${e.failPolicy}`));
    expect(await h.container.preCreate({ Image: "x" })).toEqual({ Image: "x" });
    expect(errors).toEqual(["flaky:fail-open"]);
  });

  it("time out at their time limit, and the HTTP call is aborted", async () => {
    let aborted = false;
    await serveIn(socketDir, {
      name: "sleepy",
      timeoutMs: 150,
      preCreate: (ctx: { signal: AbortSignal }) => new Promise((resolve) => ctx.signal.addEventListener("abort", () => ((aborted = true), resolve(undefined)))),
    });
    const h = await load();
    const started = Date.now();
    const error = await h.container.preCreate({ Image: "x" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PluginTimeoutError);
    expect(Date.now() - started).toBeLessThan(1900); // the host's own limit is 2000 ms
    await new Promise((r) => setTimeout(r, 100));
    expect(aborted).toBe(true);
  });

  it("can be disabled and enabled like any plugin", async () => {
    await serveIn(socketDir, labeler);
    const h = await load();
    h.disable("labeler");
    expect(await h.container.preCreate({ Image: "x" })).toEqual({ Image: "x" });
    expect(h.explain()["ContainerPlugin.preCreate"][0]).toMatchObject({ plugin: "labeler", enabled: false });
    h.enable("labeler");
    expect((await h.container.preCreate({ Image: "x" })).Labels).toEqual({ labeled: "yes" });
  });

  it("are skipped when the host's state file disables them", async () => {
    await serveIn(socketDir, labeler);
    const stateFile = join(tmp.dir, "state.json");
    await writeFile(stateFile, JSON.stringify({ version: 1, disabled: ["labeler"] }));
    external = await loadExternalPlugins(registry, { socketDirs: [socketDir] });
    host = createHost({ registry, external, stateFile });
    expect(host.isEnabled("labeler")).toBe(false);
  });

  it("carry preStart, preCreateEndpoint, postUpdate, daemon, volume, CRI and image hooks across the wire", async () => {
    const seen: unknown[] = [];
    const plugin = {
      name: "all",
      preStart: () => [{ priority: 3, path: "/bin/true", args: ["x"] }],
      preCreateEndpoint: (_c: unknown, id: string, env: readonly string[], ep: { Priority?: number }) => ({ ...ep, Priority: env.length + id.length }),
      postUpdate: (_c: unknown, rootfs: string, env: readonly string[]) => void seen.push(["postUpdate", rootfs, env]),
      preStartHook: () => void seen.push("start"),
      preStopHook: () => void seen.push("stop"),
      preVolumeCreate: (_c: unknown, cfg: { Labels?: Record<string, string> }) => ({ ...cfg, Labels: { v: "1" } }),
      preCreateContainer: (_c: unknown, cfg: { Labels?: Record<string, string> }, meta: { Name?: string }) => ({ ...cfg, Labels: { pod: meta.Name ?? "" } }),
      postPull: (_c: unknown, snapshotter: string, image: unknown) => void seen.push(["postPull", snapshotter, image]),
    };
    await serveIn(socketDir, plugin);
    const h = await load();
    expect(await h.container.preStart({ Id: "c" } as never)).toEqual([{ priority: 3, path: "/bin/true", args: ["x"] }]);
    expect(await h.container.preCreateEndpoint("abc", ["A=1", "B=2"], { Name: "n" } as never)).toEqual({ Name: "n", Priority: 5 });
    await h.container.postUpdate("/rootfs", ["X=1"]);
    await h.daemon.preStart();
    await h.daemon.preStop();
    expect(await h.volume.preVolumeCreate({ Name: "v" } as never)).toEqual({ Name: "v", Labels: { v: "1" } });
    expect(await h.cri.preCreateContainer({ Image: "i" }, { Name: "pod1" } as never)).toEqual({ Image: "i", Labels: { pod: "pod1" } });
    await h.image.postPull("snap", { Name: "img" } as never);
    expect(seen).toEqual([["postUpdate", "/rootfs", ["X=1"]], "start", "stop", ["postPull", "snap", { Name: "img" }]]);
    expect(registry.list().map((p) => p.type).sort()).toEqual(["ContainerPlugin", "CriPlugin", "DaemonPlugin", "ImagePlugin", "VolumePlugin"]);
  });

  it("stream preUpdate bodies through the plugin", async () => {
    const { Transform } = await import("node:stream");
    await serveIn(socketDir, {
      name: "upper",
      preUpdate: (_c: unknown, body: Readable) => body.pipe(new Transform({ transform: (chunk, _e, cb) => cb(null, String(chunk).toUpperCase()) })),
    });
    const h = await load();
    const out = await h.container.preUpdate(Readable.from(["{\"memory\":", "\"1g\"}"]));
    expect(await text(out)).toBe('{"MEMORY":"1G"}');
  });

  it("refuse to load when the Capabilities name differs from the socket name, saying both", async () => {
    await serveIn(socketDir, labeler, "other");
    await expect(loadExternalPlugins(registry, { socketDirs: [socketDir] })).rejects.toThrow(/Name is "labeler" but it was found as "other"/);
    expect(registry.list()).toEqual([]);
  });

  it("are unregistered and host.close() resolves once the host is closed", async () => {
    await serveIn(socketDir, labeler);
    const h = await load();
    await h.close();
    host = undefined;
    external = undefined;
    expect(registry.list()).toEqual([]);
  });
});

const socketOf = (server: HookPluginServer): string => server.address.replace(/^unix:\/\//, "");

const builtins = (): CliCommandSpec[] => [{ name: "list", description: "list things", action: () => 0 }];

describe("new hook points across the wire", () => {
  it("delivers postStart's container and onExit's exit to an external plugin", async () => {
    const seen: unknown[] = [];
    await serveIn(socketDir, {
      name: "watcher",
      postStart: (_ctx: unknown, container: unknown) => void seen.push(["start", container]),
      onExit: (_ctx: unknown, container: unknown, exit: ContainerExit) => void seen.push(["exit", container, exit]),
    });
    const h = await load();
    await h.container.postStart({ Id: "c1" });
    const exit: ContainerExit = { code: 137, signal: "SIGKILL", oomKilled: false, finishedAt: "2024-01-01T00:00:00Z" };
    await h.container.onExit({ Id: "c1" }, exit);
    await h.container.onExit({ Id: "c1" }, { ...exit, code: 0, signal: undefined });
    expect(seen).toEqual([["start", { Id: "c1" }], ["exit", { Id: "c1" }, exit], ["exit", { Id: "c1" }, { ...exit, code: 0, signal: undefined }]]);
  });

  it("reports an external observer's error as a failure naming the plugin", async () => {
    await serveIn(socketDir, { name: "grumpy", postStart: () => Promise.reject(new Error("cannot watch")) });
    const outcome = await (await load()).container.postStart({ Id: "c1" });
    expect(outcome.failures).toHaveLength(1);
    expect(outcome.failures[0]).toBeInstanceOf(PluginHookError);
    expect(outcome.failures[0]?.message).toMatch(/plugin "grumpy" failed in ContainerPlugin.postStart: .*cannot watch/);
  });

  it("resolves an image from an external image driver, and asks the next one when it says not mine", async () => {
    await serveIn(socketDir, {
      name: "dirdriver",
      priority: 5,
      resolveImage: (_ctx: unknown, ref: string) =>
        ref.startsWith("dir:") ? { ref, rootfs: ref.slice(4), config: { Cmd: ["/bin/app"] }, digest: "sha256:abc" } : undefined,
    });
    registry.registerImagePlugin({ name: "store", resolveImage: (_ctx, ref) => ({ ref, rootfs: "/store", config: {} }) });
    const h = await load();
    expect(await h.image.resolveImage("dir:/images/app")).toEqual({
      plugin: "dirdriver",
      image: { ref: "dir:/images/app", rootfs: "/images/app", config: { Cmd: ["/bin/app"] }, digest: "sha256:abc" },
    });
    expect((await h.image.resolveImage("alpine:3"))?.plugin).toBe("store");
  });

  it("answers ResolveImage with Image null for a reference that is not the plugin's", async () => {
    const server = await serveIn(socketDir, { name: "picky", resolveImage: () => undefined });
    const reply = await post(socketOf(server), "/ImagePlugin.ResolveImage", JSON.stringify({ Ref: "alpine:3" }));
    expect(reply.json).toEqual({ Image: null });
  });

  it("adds an external plugin's command, marked with its name, that runs over CliPlugin.RunCommand", async () => {
    await serveIn(socketDir, {
      name: "acme",
      updateCommands: (_ctx: unknown, commands: CliCommandSpec[]) => [
        ...commands,
        {
          name: "acme-hello",
          description: "greet",
          arguments: [{ name: "who", required: true }],
          options: [{ flags: "--shout", description: "upper case" }],
          action: ({ args, options, out }: { args: readonly string[]; options: Record<string, unknown>; out: (l: string) => void }) => {
            out(options["shout"] ? `HELLO ${args[0]!.toUpperCase()}` : `hello ${args[0]}`);
            out("bye");
            return 3;
          },
        },
      ],
    });
    const h = await load();
    const commands = await h.cli.updateCommands(builtins());
    expect(commands.map((c) => [c.name, c.plugin])).toEqual([["list", undefined], ["acme-hello", "acme"]]);
    const added = commands[1]!;
    expect(added.arguments).toEqual([{ name: "who", required: true }]);
    expect(added.options).toEqual([{ flags: "--shout", description: "upper case" }]);
    const lines: string[] = [];
    expect(await added.action({ args: ["ann"], options: { shout: true }, out: (line) => void lines.push(line) })).toBe(3);
    expect(lines).toEqual(["HELLO ANN", "bye"]);
  });

  it("keeps the host's own action of a built-in the external plugin returns unchanged", async () => {
    await serveIn(socketDir, { name: "hider", updateCommands: (_ctx: unknown, commands: CliCommandSpec[]) => commands.map((c) => ({ ...c, hidden: true })) });
    const h = await load();
    const lines: string[] = [];
    const list: CliCommandSpec = { name: "list", description: "d", action: ({ out }) => (out("local"), 0) };
    const [only] = await h.cli.updateCommands([list]);
    expect(only).toMatchObject({ name: "list", hidden: true });
    await only!.action({ args: [], options: {}, out: (line) => void lines.push(line) });
    expect(lines).toEqual(["local"]);
  });

  it("refuses an external plugin's command named like a built-in, naming both", async () => {
    await serveIn(socketDir, { name: "clash", updateCommands: (_ctx: unknown, commands: CliCommandSpec[]) => [...commands, { name: "list", description: "mine", action: () => 0 }] });
    const h = await load();
    await expect(h.cli.updateCommands(builtins())).rejects.toThrow(/plugin "clash" adds command "list", which the built-in command "list" already is/);
  });

  it("sends a locked built-in marked Locked and accepts it back unchanged from a plugin that only adds a command", async () => {
    let seen: CliCommandSpec[] = [];
    await serveIn(socketDir, { name: "adder", updateCommands: (_ctx: unknown, c: CliCommandSpec[]) => ((seen = c), [...c, { name: "extra", description: "d", action: () => 0 }]) });
    const h = await load();
    const locked: CliCommandSpec = { name: "list", description: "d", arguments: [{ required: true, name: "what" }], options: [{ description: "JSON", flags: "--json" }], action: () => 0, locked: true };
    const result = await h.cli.updateCommands([locked]);
    expect(seen.map((c) => [c.name, c.locked])).toEqual([["list", true]]);
    expect(result.map((c) => [c.name, c.locked, c.plugin])).toEqual([["list", true, undefined], ["extra", undefined, "adder"]]);
    expect(result[0]!.action).toBe(locked.action);
  });

  it("refuses an external plugin that wraps a locked built-in, naming the plugin and the command", async () => {
    await serveIn(socketDir, { name: "wrapper", updateCommands: (_ctx: unknown, c: CliCommandSpec[]) => c.map((spec) => ({ ...spec, action: () => 0 })) });
    const h = await load();
    await expect(h.cli.updateCommands([{ name: "list", description: "d", action: () => 0, locked: true }])).rejects.toThrow(
      /plugin "wrapper" wraps the built-in command "list", in CliPlugin.updateCommands, but the host runs that command itself and locked it/,
    );
  });

  it("runs a host command an external plugin replaced over RunCommand, keeping the built-in's place and owner", async () => {
    await serveIn(socketDir, { name: "replacer", updateCommands: (_ctx: unknown, c: CliCommandSpec[]) => c.map((spec) => ({ ...spec, action: ({ out }: { out: (l: string) => void }) => (out(`replaced ${spec.name}`), 4) })) });
    const h = await load();
    const [list] = await h.cli.updateCommands([{ name: "list", description: "d", action: () => 0 }]);
    expect(list!.plugin).toBeUndefined();
    const lines: string[] = [];
    expect(await list!.action({ args: [], options: {}, out: (line) => void lines.push(line) })).toBe(4);
    expect(lines).toEqual(["replaced list"]);
  });

  it("runs a replaced host command in a plugin process that was never asked for its commands (restarted)", async () => {
    const server = await serveIn(socketDir, { name: "replacer", updateCommands: (_ctx: unknown, c: CliCommandSpec[]) => c.map((spec) => ({ ...spec, action: ({ out }: { out: (l: string) => void }) => void out(`replaced ${spec.name}`) })) });
    const reply = await post(socketOf(server), "/CliPlugin.RunCommand", JSON.stringify({ Name: "list", Args: [], Options: {} }));
    expect(reply.json).toEqual({ Output: "replaced list\n", ExitCode: 0 });
  });

  it("runs a command of a plugin process that was never asked for its commands", async () => {
    const server = await serveIn(socketDir, { name: "fresh", updateCommands: (_ctx: unknown, c: CliCommandSpec[]) => [...c, { name: "ping", description: "d", action: ({ out }: { out: (l: string) => void }) => void out("pong") }] });
    const reply = await post(socketOf(server), "/CliPlugin.RunCommand", JSON.stringify({ Name: "ping", Args: [], Options: {} }));
    expect(reply.json).toEqual({ Output: "pong\n", ExitCode: 0 });
  });
});
