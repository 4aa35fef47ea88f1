/**
 * `hookplugins plugin ...` and `hookplugins explain`: the Apptainer-style lifecycle on a host project.
 */
import { existsSync } from "node:fs";
import { readFile, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { builtPackage, cli, containerPlugin, makeProject, writePlugin, removeTemporaryFolders } from "./helpers.js";

beforeAll(async () => {
  await builtPackage();
}, 120_000);
afterAll(removeTemporaryFolders);

async function projectWith(...names: string[]): Promise<string> {
  const root = await makeProject();
  for (const [i, name] of names.entries()) await writePlugin(root, `plugins/${name}`, containerPlugin(name, i));
  if (names.length > 0) {
    const result = await cli(root, "module", ...names.map((n) => `--add-plugin=./plugins/${n}`));
    expect(result.stderr).toBe("");
  }
  return root;
}

describe("hookplugins plugin list", () => {
  it("says there are no plugins installed when there are none", async () => {
    const result = await cli(await projectWith(), "plugin", "list");
    expect(result).toEqual({ code: 0, stdout: "There are no plugins installed.\n", stderr: "" });
  });

  it("prints an ENABLED  NAME table sorted by name", async () => {
    const root = await projectWith("zeta", "alpha");
    await cli(root, "plugin", "disable", "zeta");
    const result = await cli(root, "plugin", "list");
    expect(result.stdout).toBe("ENABLED  NAME\n    yes  alpha\n     no  zeta\n");
  });

  it("prints JSON with --json", async () => {
    const result = await cli(await projectWith("alpha"), "plugin", "list", "--json");
    expect(JSON.parse(result.stdout)).toEqual([{ name: "alpha", enabled: true, version: "1.0.0", specifier: "./plugins/alpha" }]);
  });
});

describe("hookplugins plugin enable/disable", () => {
  it("persists the switch in the state file", async () => {
    const root = await projectWith("alpha", "beta");
    expect((await cli(root, "plugin", "disable", "beta")).stdout).toBe('Disabled plugin "beta".\n');
    expect(JSON.parse(await readFile(join(root, ".hookplugins/state.json"), "utf8"))).toEqual({ version: 1, disabled: ["beta"] });
    await cli(root, "plugin", "enable", "beta");
    expect(JSON.parse(await readFile(join(root, ".hookplugins/state.json"), "utf8")).disabled).toEqual([]);
  });

  it("rejects an unknown name and lists the known ones", async () => {
    const root = await projectWith("alpha", "beta");
    const result = await cli(root, "plugin", "disable", "gamma");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('unknown plugin "gamma"; known plugins: alpha, beta');
    expect(existsSync(join(root, ".hookplugins/state.json"))).toBe(false);
  });

  it("loses no update when several processes enable and disable different plugins at the same moment", async () => {
    const names = ["p0", "p1", "p2", "p3", "p4", "p5"];
    const root = await projectWith(...names);
    await cli(root, "plugin", "disable", "p0", "p1", "p2");
    // p0..p2 get enabled and p3..p5 disabled, all at once, each by its own process.
    const results = await Promise.all(names.map((name, i) => cli(root, "plugin", i < 3 ? "enable" : "disable", name)));
    expect(results.map((r) => r.code)).toEqual(names.map(() => 0));
    expect(JSON.parse(await readFile(join(root, ".hookplugins/state.json"), "utf8")).disabled).toEqual(["p3", "p4", "p5"]);
  });

  it("reports a corrupt state file clearly and does not overwrite it", async () => {
    const root = await projectWith("alpha");
    await mkdir(join(root, ".hookplugins"), { recursive: true });
    await writeFile(join(root, ".hookplugins/state.json"), "{ not json");
    const result = await cli(root, "plugin", "disable", "alpha");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/plugin state file .*state\.json is not valid JSON .*fix it or delete it/);
    expect(await readFile(join(root, ".hookplugins/state.json"), "utf8")).toBe("{ not json");
  });

  it("uses the state file given with --state-file", async () => {
    const root = await projectWith("alpha");
    await cli(root, "plugin", "disable", "alpha", "--state-file", "custom/state.json");
    expect(existsSync(join(root, "custom/state.json"))).toBe(true);
    expect(existsSync(join(root, ".hookplugins/state.json"))).toBe(false);
  });
});

describe("hookplugins plugin compile, install, inspect, uninstall", () => {
  it("round-trips the manifest through compile, install and inspect", async () => {
    const author = await makeProject();
    await writePlugin(author, "greeter", containerPlugin("greeter", 7, { version: "2.3.4", description: "Greets", author: "Ada" }));
    const compiled = await cli(author, "plugin", "compile", "greeter", "--out", "out/greeter.hookplugin.js");
    expect(compiled.stderr).toBe("");
    const file = join(author, "out/greeter.hookplugin.js");
    expect((await readFile(file, "utf8")).split("\n")[0]).toBe(
      '// hookplugin-manifest: {"name":"greeter","version":"2.3.4","description":"Greets","author":"Ada","engines":{"hookplugins":">=0.1.0"}}',
    );

    const host = await makeProject();
    const installed = await cli(host, "plugin", "install", file);
    expect(installed.stdout).toBe('Installed plugin "greeter" (./plugins/greeter.hookplugin.js).\n');
    const inspected = await cli(host, "plugin", "inspect", "greeter", "--json");
    expect(JSON.parse(inspected.stdout)).toMatchObject({
      name: "greeter",
      version: "2.3.4",
      description: "Greets",
      author: "Ada",
      installed: true,
      enabled: true,
      interfaces: [{ type: "ContainerPlugin", priority: 7, hooks: ["preCreate"] }],
    });
  });

  it("inspect prints Name, Description, Author, Version, interfaces, hooks and priority", async () => {
    const root = await projectWith("alpha");
    const result = await cli(root, "plugin", "inspect", "alpha");
    expect(result.stdout).toMatch(/^Name: alpha\nDescription: The alpha plugin\nAuthor: Test Author\nVersion: 1\.0\.0\n/);
    expect(result.stdout).toContain("  ContainerPlugin (priority 0): preCreate\n");
  });

  it("inspects a plugin folder by path without installing it", async () => {
    const root = await makeProject();
    await writePlugin(root, "elsewhere/solo", containerPlugin("solo", 3));
    const result = await cli(root, "plugin", "inspect", "./elsewhere/solo", "--json");
    expect(JSON.parse(result.stdout)).toMatchObject({ name: "solo", installed: false, interfaces: [{ priority: 3 }] });
  });

  it("inspect of a plugin folder that is not installed says Installed: no with the fix, and no Enabled line", async () => {
    const root = await makeProject();
    await writePlugin(root, "elsewhere/solo", containerPlugin("solo", 3));
    const result = await cli(root, "plugin", "inspect", "./elsewhere/solo");
    expect(result.stdout).toContain("\nInstalled: no (not in hookplugins.json; add it with `hookplugins plugin install ./elsewhere/solo`)\nSource: ./elsewhere/solo\n");
    expect(result.stdout).not.toContain("Enabled:");
  });

  it("inspect --json of a plugin that is not installed gives enabled: null", async () => {
    const root = await makeProject();
    await writePlugin(root, "elsewhere/solo", containerPlugin("solo"));
    const result = await cli(root, "plugin", "inspect", "./elsewhere/solo", "--json");
    expect(JSON.parse(result.stdout)).toMatchObject({ installed: false, enabled: null });
  });

  it("inspect of an installed plugin says Installed: yes and whether it is enabled", async () => {
    const root = await projectWith("alpha");
    await cli(root, "plugin", "disable", "alpha");
    expect((await cli(root, "plugin", "inspect", "alpha")).stdout).toContain("\nInstalled: yes\nEnabled: no\n");
  });

  it("install rejects a file without an embedded manifest and changes nothing", async () => {
    const root = await projectWith("alpha");
    const before = await readFile(join(root, "hookplugins.json"), "utf8");
    await writeFile(join(root, "loose.js"), 'import { registerContainerPlugin } from "hookplugins";\n');
    const result = await cli(root, "plugin", "install", "./loose.js");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("is not a compiled plugin");
    expect(await readFile(join(root, "hookplugins.json"), "utf8")).toBe(before);
  });

  it("installs a plugin folder into the build manifest", async () => {
    const root = await projectWith();
    await writePlugin(root, "vendor/alpha", containerPlugin("alpha"));
    const result = await cli(root, "plugin", "install", "./vendor/alpha");
    expect(result.stdout).toBe('Installed plugin "alpha" (./vendor/alpha).\n');
    expect((await cli(root, "plugin", "list")).stdout).toBe("ENABLED  NAME\n    yes  alpha\n");
  });

  it("installs an npm package by name and imports it by name in the generated module", async () => {
    const root = await projectWith();
    const pkg = join(root, "node_modules", "acme-quota");
    await mkdir(pkg, { recursive: true });
    await writeFile(join(pkg, "package.json"), JSON.stringify({ name: "acme-quota", type: "module", main: "index.js", hookplugin: containerPlugin("quota").manifest }));
    await writeFile(join(pkg, "index.js"), containerPlugin("quota").source);
    expect((await cli(root, "plugin", "install", "acme-quota")).code).toBe(0);
    expect(await readFile(join(root, "src/plugins.generated.ts"), "utf8")).toContain('import "acme-quota"; // acme-quota');
  });

  it("uninstall removes the plugin from the build manifest and says so", async () => {
    const root = await projectWith("alpha", "beta");
    const result = await cli(root, "plugin", "uninstall", "alpha");
    expect(result).toEqual({ code: 0, stdout: 'Uninstalled plugin "alpha".\n', stderr: "" });
    expect(JSON.parse(await readFile(join(root, "hookplugins.json"), "utf8")).plugins).toEqual(["./plugins/beta"]);
    expect(await readFile(join(root, "src/plugins.generated.ts"), "utf8")).not.toContain("alpha");
  });

  it("uninstall of an unknown name fails and lists the known ones", async () => {
    const result = await cli(await projectWith("alpha"), "plugin", "uninstall", "nope");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("known plugins: alpha");
  });

  it("exits 2 when a required argument is missing", async () => {
    const result = await cli(await projectWith(), "plugin", "inspect");
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/missing required argument/);
  });
});

describe("hookplugins explain", () => {
  it("shows the order at a hook point with priority, state and source", async () => {
    const root = await projectWith("low", "high");
    await cli(root, "plugin", "disable", "low");
    const result = await cli(root, "explain", "preCreate", "--json");
    expect(JSON.parse(result.stdout)).toEqual({
      "ContainerPlugin.preCreate": [
        { plugin: "high", priority: 1, enabled: true, source: "./plugins/high" },
        { plugin: "low", priority: 0, enabled: false, source: "./plugins/low" },
      ],
    });
  });

  it("breaks ties at equal priority by inclusion order", async () => {
    const root = await makeProject();
    for (const name of ["second", "first"]) await writePlugin(root, `plugins/${name}`, containerPlugin(name, 5));
    await cli(root, "module", "--add-plugin=./plugins/second", "--add-plugin=./plugins/first");
    const result = await cli(root, "explain", "ContainerPlugin.preCreate");
    expect(result.stdout).toBe(
      [
        "ContainerPlugin.preCreate (waterfall)",
        "  PRIORITY  PLUGIN  STATE    SOURCE",
        "  5         second  enabled  ./plugins/second",
        "  5         first   enabled  ./plugins/first",
        "",
      ].join("\n"),
    );
  });

  it("exits 2 for an unknown hook point", async () => {
    const result = await cli(await projectWith(), "explain", "preCreat");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown hook point "preCreat"');
  });
});
