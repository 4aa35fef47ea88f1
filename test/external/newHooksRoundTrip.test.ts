/**
 * postStart, onExit, resolveImage and CliPlugin across the wire: a plugin object served in its own server and loaded
 * back as an external plugin answers as it does in-process, and a command it adds runs over CliPlugin.RunCommand.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHost, createRegistry, PluginHookError, type CliCommandSpec, type ContainerExit, type Host, type PluginRegistry } from "hookplugins";
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

async function serveOne(plugin: object | object[]): Promise<HookPluginServer> {
  const first = (Array.isArray(plugin) ? plugin[0] : plugin) as { name: string };
  const server = await serve(plugin, { socket: join(socketDir, `${first.name}.sock`), handleSignals: false });
  servers.push(server);
  return server;
}

async function load(): Promise<Host> {
  external = await loadExternalPlugins(registry, { socketDirs: [socketDir] }, { retryTotalMs: 500 });
  host = createHost({ registry, external, timeoutMs: 2000 });
  return host;
}

const socketOf = (server: HookPluginServer): string => server.address.replace(/^unix:\/\//, "");

const builtins = (): CliCommandSpec[] => [{ name: "list", description: "list things", action: () => 0 }];

describe("new hook points across the wire", () => {
  it("delivers postStart's container and onExit's exit to an external plugin", async () => {
    const seen: unknown[] = [];
    await serveOne({
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
    await serveOne({ name: "grumpy", postStart: () => Promise.reject(new Error("cannot watch")) });
    const outcome = await (await load()).container.postStart({ Id: "c1" });
    expect(outcome.failures).toHaveLength(1);
    expect(outcome.failures[0]).toBeInstanceOf(PluginHookError);
    expect(outcome.failures[0]?.message).toMatch(/plugin "grumpy" failed in ContainerPlugin.postStart: .*cannot watch/);
  });

  it("resolves an image from an external image driver, and asks the next one when it says not mine", async () => {
    await serveOne({
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
    const server = await serveOne({ name: "picky", resolveImage: () => undefined });
    const reply = await post(socketOf(server), "/ImagePlugin.ResolveImage", JSON.stringify({ Ref: "alpine:3" }));
    expect(reply.json).toEqual({ Image: null });
  });

  it("adds an external plugin's command, marked with its name, that runs over CliPlugin.RunCommand", async () => {
    await serveOne({
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
    await serveOne({ name: "hider", updateCommands: (_ctx: unknown, commands: CliCommandSpec[]) => commands.map((c) => ({ ...c, hidden: true })) });
    const h = await load();
    const lines: string[] = [];
    const list: CliCommandSpec = { name: "list", description: "d", action: ({ out }) => (out("local"), 0) };
    const [only] = await h.cli.updateCommands([list]);
    expect(only).toMatchObject({ name: "list", hidden: true });
    await only!.action({ args: [], options: {}, out: (line) => void lines.push(line) });
    expect(lines).toEqual(["local"]);
  });

  it("refuses an external plugin's command named like a built-in, naming both", async () => {
    await serveOne({ name: "clash", updateCommands: (_ctx: unknown, commands: CliCommandSpec[]) => [...commands, { name: "list", description: "mine", action: () => 0 }] });
    const h = await load();
    await expect(h.cli.updateCommands(builtins())).rejects.toThrow(/plugin "clash" adds command "list", which the built-in command "list" already is/);
  });

  it("runs a command of a plugin process that was never asked for its commands", async () => {
    const server = await serveOne({ name: "fresh", updateCommands: (_ctx: unknown, c: CliCommandSpec[]) => [...c, { name: "ping", description: "d", action: ({ out }: { out: (l: string) => void }) => void out("pong") }] });
    const reply = await post(socketOf(server), "/CliPlugin.RunCommand", JSON.stringify({ Name: "ping", Args: [], Options: {} }));
    expect(reply.json).toEqual({ Output: "pong\n", ExitCode: 0 });
  });
});
