/**
 * `explain`, `plugin list` and `plugin inspect` show a plugin that failed to load, in-process or external, with its
 * source and the reason (the same fields with --json); and "did you mean" for the keys of "external".
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { builtPackage, cli, containerPlugin, makeProject, removeTemporaryFolders, writePlugin } from "./helpers.js";

beforeAll(async () => {
  await builtPackage();
}, 180_000);
afterAll(removeTemporaryFolders);

/** A project with an in-process plugin "alpha" and an external source whose ghost.spec names a socket that does not exist. */
async function projectWithGhost(): Promise<{ root: string; spec: string; reason: string }> {
  const root = await makeProject();
  await writePlugin(root, "plugins/alpha", containerPlugin("alpha", 0));
  await writeFile(join(root, "hookplugins.json"), JSON.stringify({ plugins: ["./plugins/alpha"], generated: false, stateFile: ".hookplugins/state.json", installDir: "plugins", external: { specDirs: ["specs"] } }));
  await mkdir(join(root, "specs"));
  const spec = join(root, "specs", "ghost.spec");
  const socket = join(root, "nothing-here.sock");
  await writeFile(spec, `unix://${socket}\n`);
  return { root, spec, reason: `cannot connect to unix://${socket} (no socket there)` };
}

/** A project whose second in-process plugin throws when it is imported. */
async function projectWithThrowingPlugin(): Promise<string> {
  const root = await makeProject();
  await writePlugin(root, "plugins/alpha", containerPlugin("alpha", 0));
  await writePlugin(root, "plugins/broken", { manifest: containerPlugin("broken").manifest!, source: 'throw new Error("no config file");\n' });
  await writeFile(join(root, "hookplugins.json"), JSON.stringify({ plugins: ["./plugins/alpha", "./plugins/broken"], generated: false, stateFile: ".hookplugins/state.json", installDir: "plugins" }));
  return root;
}

describe("a plugin that failed to load", () => {
  it("is listed by plugin list under \"Failed to load:\" with its spec file and the reason, and the list exits 0", async () => {
    const { root, spec, reason } = await projectWithGhost();
    const result = await cli(root, "plugin", "list");
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toBe(
      [
        "ENABLED  NAME",
        "    yes  alpha",
        "",
        "External plugins:",
        "ENABLED  NAME   SOURCE  PROCESS        LOCATION",
        `    yes  ghost  spec    not reachable  ${spec}`,
        "",
        "Failed to load:",
        `NAME   SOURCE  LOCATION${" ".repeat(spec.length - "LOCATION".length)}  REASON`,
        `ghost  spec    ${spec}  ${reason}`,
        "",
      ].join("\n"),
    );
  });

  it("has its source and the reason in plugin list --json", async () => {
    const { root, spec, reason } = await projectWithGhost();
    const result = await cli(root, "plugin", "list", "--json");
    expect(JSON.parse(result.stdout)).toEqual([
      { name: "alpha", enabled: true, version: "1.0.0", specifier: "./plugins/alpha" },
      { name: "ghost", enabled: true, source: { kind: "spec", location: spec }, running: false, error: reason },
    ]);
  });

  it("is shown by explain after the order, which holds the plugins that did load, and explain exits 0", async () => {
    const { root, spec, reason } = await projectWithGhost();
    const text = await cli(root, "explain", "preCreate");
    expect(text).toMatchObject({ code: 0, stderr: "" });
    expect(text.stdout).toContain("  0         alpha   enabled  ./plugins/alpha\n\nFailed to load:\n");
    expect(text.stdout).toContain(`ghost  spec    ${spec}  ${reason}\n`);
    const json = JSON.parse((await cli(root, "explain", "preCreate", "--json")).stdout) as Record<string, unknown>;
    expect(json["failed"]).toEqual([{ name: "ghost", source: { kind: "spec", location: spec }, error: reason }]);
    expect(json["ContainerPlugin.preCreate"]).toEqual([{ plugin: "alpha", priority: 0, enabled: true, source: "./plugins/alpha" }]);
  });

  it("is shown by plugin inspect with its source and the reason, and inspect exits 1", async () => {
    const { root, spec, reason } = await projectWithGhost();
    const result = await cli(root, "plugin", "inspect", "ghost");
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`Source: spec ${spec}\nProcess: not reachable\nError: ${reason}\n`);
    expect(result.stderr).toBe(`hookplugins: error: cannot load external plugin "ghost" from ${spec} (unix://${join(root, "nothing-here.sock")}): ${reason}\n`);
    const json = await cli(root, "plugin", "inspect", "ghost", "--json");
    expect(JSON.parse(json.stdout)).toMatchObject({ name: "ghost", source: { kind: "spec", location: spec }, error: reason });
  });

  it("in-process, that throws when imported, is shown by explain with its specifier and the reason, beside the plugins that loaded", async () => {
    const root = await projectWithThrowingPlugin();
    const result = await cli(root, "explain", "preCreate", "--json");
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(result.stdout)).toEqual({
      "ContainerPlugin.preCreate": [{ plugin: "alpha", priority: 0, enabled: true, source: "./plugins/alpha" }],
      failed: [{ name: "broken", source: { kind: "module", location: "./plugins/broken" }, error: 'plugin "./plugins/broken" threw while loading: no config file' }],
    });
  });

  it("in-process, that registers a plugin and then throws, leaves nothing registered: explain lists only the plugins that loaded", async () => {
    const root = await makeProject();
    await writePlugin(root, "plugins/alpha", containerPlugin("alpha", 0));
    const source = 'import { registerContainerPlugin } from "hookplugins";\nregisterContainerPlugin({ name: "broken", preCreate: () => undefined });\nthrow new Error("no config file");\n';
    await writePlugin(root, "plugins/broken", { manifest: containerPlugin("broken").manifest!, source });
    await writeFile(join(root, "hookplugins.json"), JSON.stringify({ plugins: ["./plugins/alpha", "./plugins/broken"], generated: false, stateFile: ".hookplugins/state.json", installDir: "plugins" }));
    const result = await cli(root, "explain", "preCreate", "--json");
    expect(result).toMatchObject({ code: 0, stderr: "" });
    const shown = JSON.parse(result.stdout) as Record<string, { plugin?: string; name?: string }[]>;
    expect(shown["ContainerPlugin.preCreate"]!.map((p) => p.plugin)).toEqual(["alpha"]);
    expect(shown["failed"]!.map((p) => p.name)).toEqual(["broken"]);
  });

  it("in-process, that throws when imported, makes plugin inspect print what is known and exit 1 with the reason", async () => {
    const root = await projectWithThrowingPlugin();
    const result = await cli(root, "plugin", "inspect", "broken");
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('Name: broken\nInstalled: yes\nEnabled: yes\nSource: ./plugins/broken\nError: plugin "./plugins/broken" threw while loading: no config file\n');
    expect(result.stderr).toBe('hookplugins: error: plugin "./plugins/broken" threw while loading: no config file\n');
  });

  it("in-process, whose folder is gone, is listed by plugin list with its specifier and the reason", async () => {
    const root = await makeProject();
    await writePlugin(root, "plugins/alpha", containerPlugin("alpha", 0));
    await writeFile(join(root, "hookplugins.json"), JSON.stringify({ plugins: ["./plugins/alpha", "./plugins/gone"], generated: false, stateFile: ".hookplugins/state.json", installDir: "plugins" }));
    const result = await cli(root, "plugin", "list", "--json");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([
      { name: "alpha", enabled: true, version: "1.0.0", specifier: "./plugins/alpha" },
      { name: "./plugins/gone", enabled: true, specifier: "./plugins/gone", error: `plugin "./plugins/gone" not found: ${join(root, "plugins/gone")} does not exist` },
    ]);
  });

  it("stops a server from starting, with the plugin, its spec file and the reason", async () => {
    const { root, spec, reason } = await projectWithGhost();
    const result = await cli(root, "docker-plugin", "--name", "hp-test", "--authz", "--socket", join(root, "bridge.sock"));
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`hookplugins: error: cannot load external plugin "ghost" from ${spec} (unix://${join(root, "nothing-here.sock")}): ${reason}\n`);
  }, 40_000);
});

describe("the \"external\" key of hookplugins.json", () => {
  it("rejects an unknown key and suggests the key it nearly matches", async () => {
    const root = await makeProject();
    await writeFile(join(root, "hookplugins.json"), JSON.stringify({ plugins: [], external: { specDir: ["specs"] } }));
    const result = await cli(root, "plugin", "list");
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `hookplugins: error: ${join(root, "hookplugins.json")}: "external.specDir" is not a known key (did you mean "specDirs"?); rename or remove it (known keys: socketDirs, specDirs, executableDirs, allowTcp)\n`,
    );
  });
});
