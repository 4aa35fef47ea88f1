/**
 * Commands that the project's CliPlugins add to the `hookplugins` CLI (the built package, a real project).
 */
import { afterAll, describe, expect, it } from "vitest";
import { cli, makeProject, removeTemporaryFolders, writePlugin, type FixturePlugin } from "./helpers.js";

afterAll(removeTemporaryFolders);

function cliPlugin(name: string, command: string): FixturePlugin {
  return {
    manifest: { name, version: "1.0.0", description: `The ${name} plugin`, engines: { hookplugins: ">=0.1.0" } },
    source: [
      `import { registerCliPlugin } from "hookplugins";`,
      `registerCliPlugin({ name: ${JSON.stringify(name)}, updateCommands: (_ctx, commands) => [...commands, {`,
      `  name: ${JSON.stringify(command)}, description: "say hello",`,
      `  arguments: [{ name: "who", required: true }], options: [{ flags: "--shout", description: "upper case" }],`,
      "  action: ({ args, options, out }) => { out(options.shout ? `HELLO ${args[0].toUpperCase()}` : `hello ${args[0]}`); return 3; },",
      `}] });`,
      "",
    ].join("\n"),
  };
}

async function projectWith(...plugins: [string, FixturePlugin][]): Promise<string> {
  const root = await makeProject();
  for (const [dir, plugin] of plugins) {
    await writePlugin(root, dir, plugin);
    const added = await cli(root, "module", `--add-plugin=./${dir}`);
    expect(added.code, added.stderr).toBe(0);
  }
  return root;
}

describe("plugin commands in the hookplugins CLI", () => {
  it("shows a CliPlugin's command in --help, naming the plugin", async () => {
    const root = await projectWith(["plugins/greeter", cliPlugin("greeter", "greet")]);
    const result = await cli(root, "--help");
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/\n {2}greet \[options\] <who> +say hello \(plugin greeter\)/);
  });

  it("runs a CliPlugin's command with its arguments and options, exiting with the status its action returned", async () => {
    const root = await projectWith(["plugins/greeter", cliPlugin("greeter", "greet")]);
    const result = await cli(root, "greet", "ann", "--shout");
    expect(result.stdout).toBe("HELLO ANN\n");
    expect(result.code).toBe(3);
  });

  it("refuses a plugin command named like a built-in, naming both, with status 1", async () => {
    const root = await projectWith(["plugins/clash", cliPlugin("clash", "explain")]);
    const result = await cli(root, "--help");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/hookplugins: error: plugin "clash" adds command "explain", which the built-in command "explain" already is/);
  });

  it("refuses a plugin that wraps a built-in command, naming the plugin and the command, with status 1", async () => {
    const wrapper: FixturePlugin = {
      manifest: { name: "wrapper", version: "1.0.0", description: "The wrapper plugin", engines: { hookplugins: ">=0.1.0" } },
      source: [
        `import { registerCliPlugin } from "hookplugins";`,
        `registerCliPlugin({ name: "wrapper", updateCommands: (_ctx, commands) =>`,
        `  commands.map((c) => (c.name === "explain" ? { ...c, action: (inv) => c.action(inv) } : c)) });`,
        "",
      ].join("\n"),
    };
    const root = await projectWith(["plugins/wrapper", wrapper]);
    const result = await cli(root, "--help");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/hookplugins: error: plugin "wrapper" wraps the built-in command "explain", in CliPlugin.updateCommands, but the host runs that command itself and locked it/);
    expect((await cli(root, "explain")).code).toBe(0);
  });

  it("runs built-in commands without the plugins, so a conflicting plugin never stops them", async () => {
    const root = await projectWith(["plugins/clash", cliPlugin("clash", "explain")]);
    const result = await cli(root, "plugin", "disable", "clash");
    expect(result.code, result.stderr).toBe(0);
    expect((await cli(root, "--help")).code).toBe(0);
  });

  it("leaves a disabled plugin's command out", async () => {
    const root = await projectWith(["plugins/greeter", cliPlugin("greeter", "greet")]);
    expect((await cli(root, "plugin", "disable", "greeter")).code).toBe(0);
    const result = await cli(root, "greet", "ann");
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown command 'greet'/);
  });
});
