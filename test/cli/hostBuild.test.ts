/**
 * Building hosts with their chosen plugins: the esbuild plugin in an npm-style host project (examples/esbuild-host),
 * and `npm run build -- --add-plugin` in this repo.
 */
import { cp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { builtPackage, cli, containerPlugin, makeProject, repoRoot, run, writePlugin, removeTemporaryFolders, temporaryFolder } from "./helpers.js";

beforeAll(async () => {
  await builtPackage();
}, 120_000);
afterAll(removeTemporaryFolders);

/** A copy of examples/esbuild-host in a temp folder, with node_modules pointing at the built package and tsup. */
async function exampleHost(): Promise<string> {
  const root = await makeProject();
  await cp(join(repoRoot, "examples/esbuild-host"), root, { recursive: true, filter: (src) => !/node_modules|[\\/]dist$/.test(src) });
  await rm(join(root, ".hookplugins"), { recursive: true, force: true });
  for (const dep of ["tsup", "esbuild"]) await symlink(join(repoRoot, "node_modules", dep), join(root, "node_modules", dep), "dir");
  return root;
}

const tsup = join(repoRoot, "node_modules/.bin/tsup");

async function start(root: string): Promise<{ includedPlugins: string[]; env: string[]; preCreate: Array<{ plugin: string; enabled: boolean }> }> {
  const result = await run(process.execPath, ["dist/main.js"], root);
  expect(result.stderr).toBe("");
  return JSON.parse(result.stdout);
}

describe("a host built with the hookplugins esbuild plugin", () => {
  let root: string;
  beforeAll(async () => {
    root = await exampleHost();
    const built = await run(tsup, [], root);
    expect(built.code, built.stderr).toBe(0);
  }, 60_000);

  it("bundles the plugins listed in its hookplugins.json", async () => {
    const bundle = await readFile(join(root, "dist/main.js"), "utf8");
    expect(bundle).toContain("GREETING=hello");
  });

  it("runs them at run time without discovering anything", async () => {
    const output = await start(root);
    expect(output.includedPlugins).toEqual(["./plugins/greeter"]);
    expect(output.env).toEqual(["GREETING=hello"]);
  });

  it("skips a plugin disabled with the CLI at the next start, with no rebuild", async () => {
    const host = await exampleHost();
    expect((await run(tsup, [], host)).code).toBe(0);
    const bundleBefore = await readFile(join(host, "dist/main.js"), "utf8");
    expect((await cli(host, "plugin", "disable", "greeter")).code).toBe(0);
    const output = await start(host);
    expect(output.env).toEqual([]);
    expect(output.preCreate).toEqual([{ plugin: "greeter", priority: 10, enabled: false }]);
    expect(await readFile(join(host, "dist/main.js"), "utf8")).toBe(bundleBefore);
  }, 60_000);

  it("fails the build when a listed plugin's engines range is not met", async () => {
    const host = await exampleHost();
    await writePlugin(host, "plugins/future", containerPlugin("future", 0, { engines: { hookplugins: ">=99.0.0" } }));
    const manifest = JSON.parse(await readFile(join(host, "hookplugins.json"), "utf8"));
    await writeFile(join(host, "hookplugins.json"), JSON.stringify({ ...manifest, plugins: [...manifest.plugins, "./plugins/future"] }));
    const built = await run(tsup, [], host);
    expect(built.code).not.toBe(0);
    expect(built.stdout + built.stderr).toMatch(/requires hookplugins >=99\.0\.0/);
  }, 60_000);
});

describe("npm run build -- --add-plugin", () => {
  it("compiles one more plugin into the repo's host bundle without touching the generated module", async () => {
    // inside the repo (git-ignored .tmp/): a relative path resolved against the wrong folder cannot reach it by luck
    const extra = await temporaryFolder("hookplugins-extra-", join(repoRoot, ".tmp"));
    await writePlugin(extra, "marker", containerPlugin("buildmarker"));
    const out = join(extra, "dist");
    const before = await Promise.all(["examples/minid/hookplugins.json", "examples/minid/src/plugins.generated.ts"].map((f) => readFile(join(repoRoot, f), "utf8")));
    const result = await run("npm", ["run", "build", "--", `--add-plugin=${join(extra, "marker")}`, `--out-dir=${join(out, "lib")}`, `--examples-out-dir=${out}`, "--no-dts"], repoRoot);
    expect(result.code, result.stderr).toBe(0);
    expect(await readFile(join(out, "minid/main.js"), "utf8")).toContain("PLUGIN_BUILDMARKER=1");
    const after = await Promise.all(["examples/minid/hookplugins.json", "examples/minid/src/plugins.generated.ts"].map((f) => readFile(join(repoRoot, f), "utf8")));
    expect(after).toEqual(before);
  }, 90_000);
});
