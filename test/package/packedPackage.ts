/**
 * The package as npm would publish it: built (with .d.ts) into a staging folder outside the repo, packed with
 * `npm pack`, and installed alone into a fresh consumer folder. Shared by the test files of test/package.
 */
import { readFileSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readdir, lstat, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot, run, type RunResult } from "../cli/helpers.js";

/** The packed package and a consumer folder that installed only it. */
export interface PackedPackage {
  /** The staging folder that was packed (package.json, dist, ...). */
  readonly stage: string;
  /** The .tgz file. */
  readonly tarball: string;
  /** The files in the tarball, relative to the package root. */
  readonly files: readonly string[];
  /** The folder whose node_modules holds the installed tarball; consumer projects live below it. */
  readonly consumers: string;
  /** Removes every folder made. */
  readonly remove: () => Promise<void>;
}

/** The files `npm pack` puts in the package besides dist/. */
const packageFiles = [
  "package.json",
  "README.md",
  ...(JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { files: string[] }).files.filter((f) => f !== "dist"),
];

function check(result: RunResult, what: string): RunResult {
  if (result.code !== 0) throw new Error(`${what} failed (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  return result;
}

/** Builds, packs and installs the package; a few tens of seconds. */
export async function packAndInstall(): Promise<PackedPackage> {
  const root = await mkdtemp(join(tmpdir(), "hookplugins-pack-"));
  const stage = join(root, "hookplugins");
  await mkdir(stage);
  check(await run("npm", ["run", "build", "--", `--out-dir=${join(stage, "dist")}`, "--lib-only"], repoRoot), "npm run build");
  for (const file of packageFiles) await copyFile(join(repoRoot, file), join(stage, file));
  const packed = check(await run("npm", ["pack", "--json", "--pack-destination", root], stage), "npm pack");
  const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf("["))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const consumers = join(root, "consumers");
  await mkdir(consumers);
  await writeFile(join(consumers, "package.json"), `${JSON.stringify({ name: "consumers", version: "1.0.0", private: true }, null, 2)}\n`);
  const tarball = join(root, info!.filename);
  // --prefer-offline: tapable comes from npm's cache (filled by the repo's own `npm ci`) when it is there
  check(
    await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--fetch-timeout=60000", tarball], consumers, { npm_config_loglevel: "warn" }),
    "npm install <tarball>",
  );
  return { stage, tarball, files: info!.files.map((f) => f.path).sort(), consumers, remove: () => rm(root, { recursive: true, force: true }) };
}

/** The bytes of every file under `dir` (symbolic links count as themselves). */
export async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? await folderBytes(path) : (await lstat(path)).size;
  }
  return total;
}
