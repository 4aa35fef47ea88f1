import { expect, it } from "vitest";
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
  expect(result.stdout).toContain("--plugin-exec-dir DIR");
});
