/**
 * examples/esbuild-host works when copied out of the repo and set up as its README says: install hookplugins from a
 * packed tarball (the rest from the npm registry), build, start, disable a plugin with the CLI, start again.
 * Needs the npm registry (for tsup and esbuild); skipped with the reason when it cannot be reached.
 */
import { lstatSync } from "node:fs";
import { cp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { builtPackage, removeTemporaryFolders, repoRoot, run, temporaryFolder, type RunResult } from "./helpers.js";

afterAll(removeTemporaryFolders);

/** The registry npm uses here (npm_config_registry when set, as npm itself reads it). */
const registry = (process.env["npm_config_registry"] ?? "https://registry.npmjs.org/").replace(/\/?$/, "/");

/** Why the registry cannot be used here, or undefined when it answers. */
async function registryProblem(): Promise<string | undefined> {
  try {
    const response = await fetch(`${registry}tsup`, { method: "HEAD", signal: AbortSignal.timeout(10_000) });
    return response.ok ? undefined : `the npm registry answered ${response.status}`;
  } catch (error) {
    return `the npm registry (${registry}) cannot be reached: ${(error as Error).message}`;
  }
}

const problem = await registryProblem();
if (problem) console.warn(`test/cli/exampleCopy.test.ts skipped: ${problem}; it installs tsup and esbuild from there`);

/** Runs npm in `cwd` with a time limit, without the npm_* settings of the npm that runs the tests (but its registry). */
function npm(cwd: string, args: readonly string[], timeoutMs: number): Promise<RunResult> {
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key) || key === "npm_config_registry"));
  return Promise.race([
    run("npm", args, cwd, { ...env, npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false" }),
    new Promise<RunResult>((_, reject) => setTimeout(() => reject(new Error(`npm ${args.join(" ")} took over ${timeoutMs} ms`)), timeoutMs).unref()),
  ]);
}

describe.skipIf(problem !== undefined)("examples/esbuild-host copied out of the repo", () => {
  let host: string;
  let tarball: string;

  beforeAll(async () => {
    // The README packs a clone (its prepack script builds); the tests' library build is the same package without .d.ts.
    const packed = await temporaryFolder("hookplugins-pack-");
    const pack = await npm(await builtPackage(), ["pack", "--ignore-scripts", "--pack-destination", packed], 60_000);
    expect(pack.code, pack.stderr).toBe(0);
    tarball = join(packed, (await readdir(packed)).find((f) => f.endsWith(".tgz"))!);

    host = join(await temporaryFolder("hookplugins-example-"), "esbuild-host");
    await cp(join(repoRoot, "examples/esbuild-host"), host, { recursive: true, filter: (src) => !/[\\/](node_modules|dist|\.hookplugins)$/.test(src) });
    const installed = await npm(host, ["install", tarball, "--prefer-offline"], 240_000);
    expect(installed.code, installed.stderr).toBe(0);
    const built = await npm(host, ["run", "build"], 120_000);
    expect(built.code, built.stdout + built.stderr).toBe(0);
  }, 450_000);

  it("is outside the repo, so nothing can resolve into the repo's sources", () => {
    expect(host.startsWith(tmpdir())).toBe(true);
    expect(relative(repoRoot, host).startsWith("..")).toBe(true);
  });

  it("installs hookplugins from the tarball as a real package, recorded as a file: dependency", async () => {
    expect(lstatSync(join(host, "node_modules/hookplugins")).isSymbolicLink()).toBe(false);
    const pkg = JSON.parse(await readFile(join(host, "package.json"), "utf8"));
    expect(pkg.dependencies.hookplugins).toMatch(/^file:.*hookplugins-.*\.tgz$/);
  });

  it("compiles the plugin listed in hookplugins.json into dist/main.js with npm run build", async () => {
    expect(await readFile(join(host, "dist/main.js"), "utf8")).toContain("GREETING=hello");
  });

  it("prints the plugin's change with npm start", async () => {
    const started = await npm(host, ["start", "--silent"], 30_000);
    expect(started.code, started.stderr).toBe(0);
    expect(JSON.parse(started.stdout)).toMatchObject({ includedPlugins: ["./plugins/greeter"], env: ["GREETING=hello"] });
  }, 40_000);

  it("skips the plugin at the next start after npx hookplugins plugin disable greeter, with no rebuild", async () => {
    const disabled = await npm(host, ["exec", "--", "hookplugins", "plugin", "disable", "greeter"], 30_000);
    expect(disabled.stdout, disabled.stderr).toBe('Disabled plugin "greeter".\n');
    try {
      const started = await npm(host, ["start", "--silent"], 30_000);
      expect(JSON.parse(started.stdout)).toMatchObject({ env: [], preCreate: [{ plugin: "greeter", enabled: false }] });
    } finally {
      await npm(host, ["exec", "--", "hookplugins", "plugin", "enable", "greeter"], 30_000);
    }
  }, 100_000);
});
