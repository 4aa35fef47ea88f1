/**
 * The package as npm would publish it: a clean copy of the repository packed with a plain `npm pack` (whose
 * `prepack` builds it), and installed alone into a fresh consumer folder. Shared by the test files of test/package.
 */
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readdir, lstat, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { repoRoot, run, type RunResult } from "../cli/helpers.js";

/** The packed package and a consumer folder that installed only it. */
export interface PackedPackage {
  /** The clean copy of the repository that was packed (package.json, dist, ...). */
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

function check(result: RunResult, what: string): RunResult {
  if (result.code !== 0) throw new Error(`${what} failed (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  return result;
}

/** The repository's files as a clean clone has them (tracked, plus new files not ignored): no dist, no node_modules. */
async function cloneFiles(): Promise<string[]> {
  const listed = check(await run("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], repoRoot), "git ls-files");
  // node_modules may be a symbolic link (a git worktree's), which `.gitignore`'s "node_modules/" does not match
  return listed.stdout.split("\0").filter((f) => f !== "" && !/(^|\/)node_modules(\/|$)/.test(f) && existsSync(join(repoRoot, f)));
}

/**
 * Copies the repository as a clean clone has it, with the repo's node_modules linked in, and runs a plain `npm pack`
 * there: its `prepack` script builds dist/, as it does for a user who packs a fresh clone. Then installs the tarball
 * alone into a fresh consumer folder. About a minute.
 */
export async function packAndInstall(): Promise<PackedPackage> {
  const root = await mkdtemp(join(tmpdir(), "hookplugins-pack-"));
  const stage = join(root, "hookplugins");
  for (const file of await cloneFiles()) {
    await mkdir(dirname(join(stage, file)), { recursive: true });
    await copyFile(join(repoRoot, file), join(stage, file));
  }
  await symlink(join(repoRoot, "node_modules"), join(stage, "node_modules"), "dir");
  if (existsSync(join(stage, "dist"))) throw new Error("the clean copy already holds dist/");
  const packed = check(await run("npm", ["pack", "--json", "--pack-destination", root], stage, { npm_config_loglevel: "warn" }), "npm pack");
  // the prepack build writes to the same stdout (its colour codes hold "["): the JSON is the array from a line "[" on
  const json = /^\[\s*$/m.exec(packed.stdout);
  if (json === null) throw new Error(`npm pack --json printed no JSON array:\n${packed.stdout}`);
  const [info] = JSON.parse(packed.stdout.slice(json.index)) as Array<{ filename: string; files: Array<{ path: string }> }>;
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
