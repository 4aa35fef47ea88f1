/**
 * `hookplugins init` and how every other command finds its host project (hookplugins.json, -C), and what
 * hookplugins.json may hold.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { builtPackage, cli, containerPlugin, initialManifest, makeProject, removeTemporaryFolders, writePlugin } from "./helpers.js";

beforeAll(async () => {
  await builtPackage();
}, 120_000);
afterAll(removeTemporaryFolders);

/** A folder that is not a host project yet; `files` are written into it first. */
async function folderWith(files: Record<string, string> = {}): Promise<string> {
  const root = await makeProject({ manifest: false });
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(root, path, ".."), { recursive: true });
    await writeFile(join(root, path), text);
  }
  return root;
}

const readJson = async (file: string): Promise<unknown> => JSON.parse(await readFile(file, "utf8"));

describe("hookplugins init", () => {
  it("creates hookplugins.json with no plugins and the default paths", async () => {
    const root = await folderWith({ "tsconfig.json": "{}" });
    const result = await cli(root, "init");
    expect(result.code, result.stderr).toBe(0);
    expect(await readJson(join(root, "hookplugins.json"))).toEqual(initialManifest);
  });

  it("writes an empty generated module that the host can import right away", async () => {
    const root = await folderWith({ "tsconfig.json": "{}" });
    await cli(root, "init");
    const generated = await readFile(join(root, "src/plugins.generated.ts"), "utf8");
    expect(generated).not.toMatch(/^import /m);
    expect(generated).toContain("export const includedPlugins: readonly string[] = [];");
  });

  it("says what it created and what to run next", async () => {
    const result = await cli(await folderWith({ "tsconfig.json": "{}" }), "init");
    expect(result.stdout).toBe(
      [
        "Created hookplugins.json (no plugins yet).",
        "Wrote src/plugins.generated.ts (.ts: tsconfig.json found); import it once in your host before createHost().",
        "Next: hookplugins module --add-plugin=<plugin folder or package>",
        "",
      ].join("\n"),
    );
  });

  it("picks a .ts generated module in a project with TypeScript sources and no tsconfig.json", async () => {
    const root = await folderWith({ "src/main.ts": "export {};\n" });
    await cli(root, "init");
    expect((await readJson(join(root, "hookplugins.json")) as { generated: string }).generated).toBe("src/plugins.generated.ts");
  });

  it("picks a .js generated module in a JavaScript project whose package.json says type module", async () => {
    const root = await folderWith({ "package.json": '{"type": "module"}', "src/main.js": "export {};\n" });
    await cli(root, "init");
    expect((await readJson(join(root, "hookplugins.json")) as { generated: string }).generated).toBe("src/plugins.generated.js");
    expect(await readFile(join(root, "src/plugins.generated.js"), "utf8")).toContain("export const includedPlugins = [];");
  });

  it("picks a .mjs generated module in a JavaScript project without type module, so it is an ES module there too", async () => {
    const root = await folderWith({ "package.json": "{}", "index.js": "module.exports = {};\n" });
    await cli(root, "init");
    expect((await readJson(join(root, "hookplugins.json")) as { generated: string }).generated).toBe("src/plugins.generated.mjs");
  });

  it("does not count TypeScript inside node_modules as the project's own", async () => {
    const root = await folderWith({ "package.json": '{"type": "module"}', "node_modules/dep/index.ts": "export {};\n" });
    await cli(root, "init");
    expect((await readJson(join(root, "hookplugins.json")) as { generated: string }).generated).toBe("src/plugins.generated.js");
  });

  it("records generated: false and writes no module with --no-generated", async () => {
    const root = await folderWith();
    expect((await cli(root, "init", "--no-generated")).code).toBe(0);
    expect(await readJson(join(root, "hookplugins.json"))).toEqual({ ...initialManifest, generated: false });
    expect(existsSync(join(root, "src"))).toBe(false);
  });

  it("refuses to overwrite an existing hookplugins.json, exits 1 and leaves it as it was", async () => {
    const root = await makeProject();
    await writeFile(join(root, "hookplugins.json"), '{"plugins": ["./mine"]}\n');
    const result = await cli(root, "init");
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `hookplugins: error: ${join(root, "hookplugins.json")} already exists; \`hookplugins init\` never overwrites it. Edit it by hand, or change its plugins with \`hookplugins module --add-plugin=<specifier>\`\n`,
    );
    expect(await readFile(join(root, "hookplugins.json"), "utf8")).toBe('{"plugins": ["./mine"]}\n');
  });

  it("refuses to overwrite a file at the generated module's path that it did not write, and creates nothing", async () => {
    const root = await folderWith({ "tsconfig.json": "{}", "src/plugins.generated.ts": "// mine\n" });
    const result = await cli(root, "init");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("src/plugins.generated.ts already exists and was not generated by hookplugins; move it away, or choose another path with `hookplugins init --generated <path>`");
    expect(await readFile(join(root, "src/plugins.generated.ts"), "utf8")).toBe("// mine\n");
    expect(existsSync(join(root, "hookplugins.json"))).toBe(false);
  });

  it("creates the project in the folder -C names", async () => {
    const root = await folderWith();
    await mkdir(join(root, "host"));
    expect((await cli(root, "-C", "host", "init")).code).toBe(0);
    expect(existsSync(join(root, "host/hookplugins.json"))).toBe(true);
    expect(existsSync(join(root, "hookplugins.json"))).toBe(false);
  });
});

describe("finding the host project", () => {
  it("exits 1 outside any project and says to run hookplugins init", async () => {
    const root = await folderWith();
    const result = await cli(root, "plugin", "list");
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      `hookplugins: error: no hookplugins.json in ${root} or above; run \`hookplugins init\` in the host project's folder (or pass -C <project folder>)\n`,
    );
  });

  it("creates no file when a command that edits the project runs outside one", async () => {
    const root = await folderWith();
    await writePlugin(root, "plugins/alpha", containerPlugin("alpha"));
    expect((await cli(root, "module", "--add-plugin=./plugins/alpha")).code).toBe(1);
    expect((await readdir(root)).sort()).toEqual(["node_modules", "plugins"]);
  });

  it("uses the nearest hookplugins.json above the working directory", async () => {
    const root = await makeProject();
    await writePlugin(root, "plugins/alpha", containerPlugin("alpha"));
    await cli(root, "module", "--add-plugin=./plugins/alpha");
    await mkdir(join(root, "src/deep"), { recursive: true });
    expect((await cli(join(root, "src/deep"), "plugin", "list")).stdout).toBe("ENABLED  NAME\n    yes  alpha\n");
  });

  it("walks up from the folder -C names too", async () => {
    const root = await makeProject();
    await mkdir(join(root, "src"));
    const elsewhere = await folderWith();
    expect((await cli(elsewhere, "-C", join(root, "src"), "plugin", "list")).stdout).toBe("There are no plugins installed.\n");
  });

  it("exits 1 when -C names a folder that does not exist, and creates nothing", async () => {
    const root = await folderWith();
    for (const args of [["plugin", "list"], ["init"]]) {
      const result = await cli(root, "-C", "missing", ...args);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`hookplugins: error: -C missing: ${join(root, "missing")} is not an existing folder`);
    }
    expect(existsSync(join(root, "missing"))).toBe(false);
  });

  it("exits 1 when -C names a file", async () => {
    const root = await folderWith({ "notes.txt": "hi\n" });
    const result = await cli(root, "-C", "notes.txt", "init");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("is not an existing folder");
  });

  it("compiles a plugin outside any host project (compile reads only the plugin's folder)", async () => {
    const root = await folderWith();
    await writePlugin(root, "greeter", containerPlugin("greeter"));
    const result = await cli(root, "plugin", "compile", "greeter");
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(join(root, "greeter.hookplugin.js"))).toBe(true);
    expect(existsSync(join(root, "hookplugins.json"))).toBe(false);
  });
});

describe("hookplugins.json", () => {
  it("rejects an unknown key and suggests the key it nearly matches", async () => {
    const root = await makeProject();
    await writeFile(join(root, "hookplugins.json"), '{"plugin": ["./plugins/alpha"]}\n');
    const result = await cli(root, "plugin", "list");
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `hookplugins: error: ${join(root, "hookplugins.json")}: unknown key "plugin" (did you mean "plugins"?); rename or remove it (known keys: plugins, generated, stateFile, installDir, external)\n`,
    );
  });

  it("suggests a key that differs only in case", async () => {
    const root = await makeProject();
    await writeFile(join(root, "hookplugins.json"), '{"plugins": [], "statefile": "state.json"}\n');
    expect((await cli(root, "plugin", "list")).stderr).toContain('unknown key "statefile" (did you mean "stateFile"?)');
  });

  it("rejects an unknown key with no near miss and lists the known keys", async () => {
    const root = await makeProject();
    await writeFile(join(root, "hookplugins.json"), '{"plugins": [], "extras": true}\n');
    const result = await cli(root, "explain");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('unknown key "extras"; rename or remove it (known keys: plugins, generated, stateFile, installDir, external)');
  });

  it("that is not valid JSON is reported with its path and the fix", async () => {
    const root = await makeProject();
    await writeFile(join(root, "hookplugins.json"), '{"plugins": [}\n');
    const result = await cli(root, "plugin", "list");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^hookplugins: error: ${join(root, "hookplugins.json")} is not valid JSON \\([\\s\\S]*\\); fix the syntax\n$`));
  });

  it("is left as it was when a command rejects an unknown key in it", async () => {
    const root = await makeProject();
    await writeFile(join(root, "hookplugins.json"), '{"plugin": []}\n');
    await writePlugin(root, "plugins/alpha", containerPlugin("alpha"));
    expect((await cli(root, "module", "--add-plugin=./plugins/alpha")).code).toBe(1);
    expect(await readFile(join(root, "hookplugins.json"), "utf8")).toBe('{"plugin": []}\n');
    expect(existsSync(join(root, "src/plugins.generated.ts"))).toBe(false);
  });
});
