/**
 * How the CLI reports a command line it cannot use: the `hookplugins:` prefix, the near miss, and a hint to --help.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { builtPackage, cli, containerPlugin, makeProject, removeTemporaryFolders, writePlugin } from "./helpers.js";

beforeAll(async () => {
  await builtPackage();
}, 120_000);
afterAll(removeTemporaryFolders);

describe("usage errors", () => {
  it("explain of a misspelled hook point suggests the hook point meant and hints at explain --help", async () => {
    const result = await cli(await makeProject(), "explain", "preCreat");
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^hookplugins: error: unknown hook point "preCreat" \(did you mean "preCreate"\?\); hook points: ContainerPlugin\.preCreate, /);
    expect(result.stderr).toMatch(/\nhookplugins: run `hookplugins explain --help` for usage\n$/);
  });

  it("explain of a misspelled qualified hook point suggests the qualified name", async () => {
    const result = await cli(await makeProject(), "explain", "ContainerPlugin.preStrat");
    expect(result.stderr).toContain('(did you mean "ContainerPlugin.preStart"?)');
  });

  it("an unknown option names the option meant and hints at that command's --help", async () => {
    const result = await cli(await makeProject(), "module", "--add-plugins=x");
    expect(result).toEqual({
      code: 2,
      stdout: "",
      stderr: "hookplugins: error: unknown option '--add-plugins=x'\n(Did you mean --add-plugin?)\nhookplugins: run `hookplugins module --help` for usage\n",
    });
  });

  it("an unknown command suggests the command meant and hints at hookplugins --help", async () => {
    const result = await cli(await makeProject(), "modul");
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("hookplugins: error: unknown command 'modul'\n(Did you mean module?)\nhookplugins: run `hookplugins --help` for usage\n");
  });

  it("a missing argument hints at the subcommand's --help", async () => {
    const result = await cli(await makeProject(), "plugin", "inspect");
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("hookplugins: error: missing required argument 'name|path'\nhookplugins: run `hookplugins plugin inspect --help` for usage\n");
  });

  it("with --json a usage error is one JSON object on stderr that carries the hint", async () => {
    const result = await cli(await makeProject(), "module", "--add-plugins=x", "--json");
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stderr)).toEqual({
      error: { kind: "UsageError", message: "unknown option '--add-plugins=x'\n(Did you mean --add-plugin?)", hint: "run `hookplugins module --help` for usage" },
    });
  });

  it("a failure that is not a usage error has the prefix and no --help hint", async () => {
    const result = await cli(await makeProject(), "plugin", "disable", "nope");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^hookplugins: error: unknown plugin "nope"; there are no plugins installed/);
    expect(result.stderr).not.toContain("--help");
  });

  it("a misspelled plugin name suggests the installed plugin meant", async () => {
    const root = await makeProject();
    await writePlugin(root, "plugins/greeter", containerPlugin("greeter"));
    await cli(root, "module", "--add-plugin=./plugins/greeter");
    const result = await cli(root, "plugin", "disable", "greter");
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('hookplugins: error: unknown plugin "greter" (did you mean "greeter"?); known plugins: greeter\n');
  });
});
