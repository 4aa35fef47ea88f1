import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { createRegistry, type PluginRegistry } from "hookplugins";
import type { CliCommandSpec, CliPlugin, HookContext } from "hookplugins";
import { runMinid } from "../../examples/minid/src/program.js";

/** A CliPlugin whose updateCommands answers synchronously. */
type CliPluginObject = CliPlugin & { updateCommands: (ctx: HookContext, commands: CliCommandSpec[]) => CliCommandSpec[] };

function registryWith(...plugins: CliPluginObject[]): PluginRegistry {
  const registry = createRegistry();
  for (const p of plugins) registry.registerCliPlugin(p);
  return registry;
}

const greeter: CliPluginObject = {
  name: "greeter",
  updateCommands: (_ctx, commands) => [
    ...commands,
    {
      name: "greet",
      description: "says hello",
      arguments: [{ name: "who", required: true }],
      options: [{ flags: "-s, --shout", description: "in capitals" }, { flags: "--punctuation <mark>", description: "ends the line", defaultValue: "!" }],
      action: ({ args, options, out }) => {
        const line = `hello, ${args[0]}${String(options.punctuation)}`;
        out(options.shout ? line.toUpperCase() : line);
        return args[0] === "nobody" ? 3 : undefined;
      },
    },
  ],
};

async function minid(argv: string[], registry: PluginRegistry): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runMinid(argv, { registry, out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

it("a plugin's command shows in minid --help, beside the built-in ones, with the plugin's name", async () => {
  const { code, out } = await minid(["--help"], registryWith(greeter));
  expect(code).toBe(0);
  expect(out).toMatch(/^ {2}serve +run the daemon/m);
  expect(out).toMatch(/^ {2}greet <who> +says hello \(plugin greeter\)$/m);
  expect(out).toMatch(/^ {6}-s, --shout +in capitals$/m);
});

it("a plugin's command runs with its arguments, options and defaults, and its status is minid's exit status", async () => {
  const registry = registryWith(greeter);
  expect(await minid(["greet", "world", "--shout"], registry)).toEqual({ code: 0, out: "HELLO, WORLD!\n", err: "" });
  expect(await minid(["greet", "nobody", "--punctuation", "?"], registry)).toEqual({ code: 3, out: "hello, nobody?\n", err: "" });
});

it("a plugin's command given a wrong option is a usage error (exit status 2) naming the command", async () => {
  const { code, err } = await minid(["greet", "world", "--loud"], registryWith(greeter));
  expect(code).toBe(2);
  expect(err).toContain("minid: greet: Unknown option '--loud'");
});

it("a plugin command named like a built-in is refused with a message naming both", async () => {
  const clash: CliPluginObject = { name: "clash", updateCommands: (_ctx, commands) => [...commands, { name: "serve", description: "mine", action: () => 0 }] };
  const { code, err } = await minid(["--help"], registryWith(clash));
  expect(code).toBe(2);
  expect(err).toContain('plugin "clash" adds command "serve", which the built-in command "serve" already is');
});

it("an unknown command is a usage error that shows the commands there are", async () => {
  const { code, err } = await minid(["frobnicate"], registryWith(greeter));
  expect(code).toBe(2);
  expect(err).toContain('minid: unknown command "frobnicate"');
  expect(err).toContain("greet <who>");
});

it("minid --help run as its own program lists its commands and the serve options, exit status 0", async () => {
  const { execFile } = await import("node:child_process");
  const { repoRoot } = await import("./helpers.js");
  const result = await new Promise<{ code: number; stdout: string }>((resolve) => {
    execFile(process.execPath, ["--import", "tsx", "examples/minid/src/main.ts", "--help"], { cwd: repoRoot, timeout: 30_000 }, (error, stdout) =>
      resolve({ code: error ? Number(error.code) : 0, stdout }),
    );
  });
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/^commands:\n {2}serve +run the daemon/m);
  expect(result.stdout).toContain("--plugin-exec-dir <dir>");
});

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** serve's options for a dry-run daemon in a fresh temp folder. */
async function daemonArgs(): Promise<{ argv: string[]; socketPath: string }> {
  const stateDir = await mkdtemp(join(tmpdir(), "minid-commands-"));
  dirs.push(stateDir);
  const socketPath = join(stateDir, "minid.sock");
  return { argv: ["--dry-run", "--state-dir", stateDir, "--socket", socketPath], socketPath };
}

/** Runs minid in this process; once it serves, notes whether its socket is there and sends it SIGTERM (as process.emit). */
async function serveThenStop(argv: string[], registry: PluginRegistry, socketPath: string): Promise<{ code: number; err: string; socketWhileServing: boolean }> {
  let err = "";
  let finished = false;
  const run = runMinid(argv, { registry, out: () => undefined, err: (t) => (err += t) }).finally(() => (finished = true));
  while (!finished && !err.includes("serving the Docker Engine API")) await new Promise((r) => setTimeout(r, 20));
  const socketWhileServing = existsSync(socketPath);
  if (!finished) process.emit("SIGTERM");
  return { code: await run, err, socketWhileServing };
}

/** A CliPlugin named `plugin` that returns the command `name` as `change` makes it from the original. */
function changing(plugin: string, name: string, change: (original: CliCommandSpec) => CliCommandSpec): CliPluginObject {
  return { name: plugin, updateCommands: (_ctx, commands) => commands.map((c) => (c.name === name ? change(c) : c)) };
}

/** A plugin that adds --gpus to serve and wraps serve's action: it records the flag's value, then calls the original. */
function gpuPlugin(seen: unknown[]): CliPluginObject {
  return changing("gpus", "serve", (serve) => ({
    ...serve,
    options: [...serve.options!, { flags: "--gpus <n>", description: "GPUs each container gets" }],
    action: (invocation) => {
      seen.push(invocation.options.gpus);
      return serve.action(invocation);
    },
  }));
}

it("a plugin that adds a flag to serve and wraps its action sees the flag's value, and the original serves until SIGTERM", async () => {
  const seen: unknown[] = [];
  const { argv, socketPath } = await daemonArgs();
  // the flag first, with no command word: its value is not taken for one
  const { code, err, socketWhileServing } = await serveThenStop(["--gpus", "2", ...argv], registryWith(gpuPlugin(seen)), socketPath);
  expect(seen).toEqual(["2"]);
  expect(err).toContain(`minid: serving the Docker Engine API on unix://${socketPath}`);
  expect(socketWhileServing).toBe(true);
  expect(err).toContain("minid: SIGTERM received, shutting down");
  expect(code).toBe(0);
  expect(existsSync(socketPath)).toBe(false);
});

it("a flag a plugin adds to serve shows in minid --help under serve's entry", async () => {
  const { code, out } = await minid(["--help"], registryWith(gpuPlugin([])));
  expect(code).toBe(0);
  const serveAt = out.search(/^ {2}serve +run the daemon/m);
  const gpusAt = out.search(/^ {6}--gpus <n> +GPUs each container gets$/m);
  expect(serveAt).toBeGreaterThan(-1);
  expect(gpusAt).toBeGreaterThan(serveAt);
  expect(gpusAt).toBeLessThan(out.search(/^ {2}help +print this help$/m));
});

it("a built-in a plugin hides is left out of minid --help and still runs", async () => {
  const hider = changing("hider", "serve", (serve) => ({ ...serve, hidden: true }));
  const registry = registryWith(hider);
  const help = await minid(["--help"], registry);
  expect(help.out).toMatch(/^ {2}help +print this help$/m);
  expect(help.out).not.toMatch(/^ {2}serve /m);
  const { argv, socketPath } = await daemonArgs();
  const { code, socketWhileServing } = await serveThenStop(["serve", ...argv], registry, socketPath);
  expect(socketWhileServing).toBe(true);
  expect(code).toBe(0);
});

it("a plugin's wrapper of help runs, then the original help prints the usage", async () => {
  const wrapper = changing("banner", "help", (help) => ({
    ...help,
    action: (invocation) => {
      invocation.out("banner: minid with plugins");
      return help.action(invocation);
    },
  }));
  const { code, out } = await minid(["help"], registryWith(wrapper));
  expect(code).toBe(0);
  expect(out).toMatch(/^banner: minid with plugins\nusage: minid /);
});

it("a plugin that leaves serve out of the command list is refused with exit status 2 and a message naming it", async () => {
  const dropper: CliPluginObject = { name: "dropper", updateCommands: (_ctx, commands) => commands.filter((c) => c.name !== "serve") };
  const { argv, socketPath } = await daemonArgs();
  const { code, err } = await minid(argv, registryWith(dropper));
  expect(code).toBe(2);
  expect(err).toContain('CliPlugin.updateCommands of plugin "dropper" left out the built-in command "serve", which minid needs');
  expect(existsSync(socketPath)).toBe(false);
});

it("an unknown option to serve is a usage error (exit status 2) naming the option", async () => {
  const { argv } = await daemonArgs();
  const { code, err } = await minid([...argv, "--bogus"], registryWith(greeter));
  expect(code).toBe(2);
  expect(err).toContain("minid: serve: Unknown option '--bogus'");
  expect(err).toContain("usage: minid");
});

it("minid serve --help prints the usage and does not start the daemon", async () => {
  const { argv, socketPath } = await daemonArgs();
  const { code, out, err } = await minid(["serve", ...argv, "--help"], registryWith(greeter));
  expect(code).toBe(0);
  expect(out).toMatch(/^usage: minid /);
  expect(err).not.toContain("serving");
  expect(existsSync(socketPath)).toBe(false);
});

it("--help after a plugin's command word prints minid's help, exit status 0", async () => {
  const { code, out } = await minid(["greet", "--help"], registryWith(greeter));
  expect(code).toBe(0);
  expect(out).toMatch(/^ {2}greet <who> +says hello \(plugin greeter\)$/m);
});
