/**
 * Shared helpers of the CLI end-to-end tests: the library built once (by `npm run build`) into a temporary package,
 * temporary host projects that resolve "hookplugins" to it, fixture plugins, and running the built executable.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, statSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { withLock } from "../../src/state/lockFile.js";

/** The repository root. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

function fingerprint(): string {
  const hash = createHash("sha256");
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir).sort()) {
      const path = join(dir, entry);
      const info = statSync(path);
      if (info.isDirectory()) walk(path);
      else hash.update(`${path}:${info.size}:${info.mtimeMs}\n`);
    }
  };
  walk(join(repoRoot, "src"));
  for (const file of ["package.json", "tsup.config.ts"]) hash.update(`${file}:${statSync(join(repoRoot, file)).mtimeMs}\n`);
  return hash.digest("hex").slice(0, 16);
}

/** What a process printed and its exit status. */
export interface RunResult {
  /** Exit status. */
  code: number;
  /** Standard output. */
  stdout: string;
  /** Standard error. */
  stderr: string;
}

/** Runs `file` with `args` in `cwd`; never rejects on a non-zero exit. */
export function run(file: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return new Promise((done) => {
    execFile(file, [...args], { cwd, env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      done({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

let packageDir: Promise<string> | undefined;

/** Guards taking a lease on a build and deleting unused builds, across every suite running on this machine. */
const buildsLock = join(tmpdir(), "hookplugins-cli-test-builds.lock");

/** Deleting a build can take a while on a loaded machine. */
const buildsLockOptions = { timeoutMs: 60_000, staleMs: 60_000 };

/** True while process `pid` exists. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Whether a build folder is in use: a process that leased it is still running. */
function inUse(buildRoot: string): boolean {
  const leases = join(buildRoot, "leases");
  if (!existsSync(leases)) return false;
  return readdirSync(leases).some((name) => isAlive(Number(name)));
}

/**
 * The library as a package folder (package.json + dist built by `npm run build`), built once per source state and
 * shared between test files and runs. Each process that uses a build holds a lease on it (a file named by its
 * pid), and builds of other source states are deleted only when no live process holds one, so that a suite running
 * beside this one (another worktree, another run) never loses its package half-way.
 */
export function builtPackage(): Promise<string> {
  packageDir ??= (async () => {
    const root = join(tmpdir(), `hookplugins-cli-test-${fingerprint()}`);
    const dir = join(root, "hookplugins");
    const marker = join(dir, ".built");
    await withLock(
      buildsLock,
      async () => {
        await mkdir(join(root, "leases"), { recursive: true });
        await writeFile(join(root, "leases", String(process.pid)), "");
      },
      buildsLockOptions,
    );
    if (existsSync(marker)) return dir;
    await mkdir(dir, { recursive: true });
    await withLock(
      join(root, "build.lock"),
      async () => {
        if (existsSync(marker)) return;
        const result = await run("npm", ["run", "build", "--", `--out-dir=${join(dir, "dist")}`, "--no-dts", "--lib-only"], repoRoot);
        if (result.code !== 0) throw new Error(`npm run build failed:\n${result.stdout}\n${result.stderr}`);
        await copyFile(join(repoRoot, "package.json"), join(dir, "package.json"));
        if (!existsSync(join(dir, "node_modules"))) await symlink(join(repoRoot, "node_modules"), join(dir, "node_modules"), "dir");
        await writeFile(marker, new Date().toISOString());
      },
      { timeoutMs: 120_000, staleMs: 120_000 },
    );
    // Builds of other source states that no running process uses are no longer needed.
    await withLock(
      buildsLock,
      async () => {
        for (const entry of readdirSync(tmpdir())) {
          const old = join(tmpdir(), entry);
          if (!entry.startsWith("hookplugins-cli-test-") || old === root || !statSync(old).isDirectory()) continue;
          // a build without leases was made by an older helper, which could not say whether it is in use
          const idleMs = existsSync(join(old, "leases")) ? 10 * 60_000 : 60 * 60_000;
          if (!inUse(old) && Date.now() - statSync(old).mtimeMs > idleMs) await rm(old, { recursive: true, force: true });
        }
      },
      buildsLockOptions,
    );
    return dir;
  })();
  return packageDir;
}

const temporary: string[] = [];

/** Removes the temporary folders made so far (call from afterAll). */
export async function removeTemporaryFolders(): Promise<void> {
  await Promise.all(temporary.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

/** A new temporary folder, removed by removeTemporaryFolders. */
export async function temporaryFolder(prefix: string, parent = tmpdir()): Promise<string> {
  await mkdir(parent, { recursive: true });
  const dir = await mkdtemp(join(parent, prefix));
  temporary.push(dir);
  return dir;
}

/** The hookplugins.json a test project starts with (what `hookplugins init` writes in a TypeScript project). */
export const initialManifest = {
  plugins: [],
  generated: "src/plugins.generated.ts",
  stateFile: ".hookplugins/state.json",
  installDir: "plugins",
};

/**
 * A temporary host project whose node_modules/hookplugins is the built package, with an empty hookplugins.json
 * (`{ manifest: false }`: none, so it is not a host project until `hookplugins init`).
 */
export async function makeProject(options: { manifest?: boolean } = {}): Promise<string> {
  const pkg = await builtPackage();
  const root = await temporaryFolder("hookplugins-project-");
  await mkdir(join(root, "node_modules"));
  await symlink(pkg, join(root, "node_modules", "hookplugins"), "dir");
  if (options.manifest !== false) await writeFile(join(root, "hookplugins.json"), `${JSON.stringify(initialManifest, null, 2)}\n`);
  return root;
}

/** Runs the built `hookplugins` executable in `cwd`. */
export async function cli(cwd: string, ...args: string[]): Promise<RunResult> {
  return run(process.execPath, [join(await builtPackage(), "dist", "cli.js"), ...args], cwd);
}

/** A fixture plugin's manifest and code. */
export interface FixturePlugin {
  /** The manifest under the "hookplugin" key (undefined: no manifest). */
  manifest?: Record<string, unknown>;
  /** index.ts source. */
  source: string;
}

/** A plugin folder `dir` (relative to `root`) registering a ContainerPlugin `name` at `priority`. */
export function containerPlugin(name: string, priority = 0, extra: Record<string, unknown> = {}): FixturePlugin {
  return {
    manifest: { name, version: "1.0.0", description: `The ${name} plugin`, author: "Test Author", engines: { hookplugins: ">=0.1.0" }, ...extra },
    source: [
      `import { registerContainerPlugin } from "hookplugins";`,
      `registerContainerPlugin({ name: ${JSON.stringify(name)}, priority: ${priority}, preCreate(_ctx, config) { config.Env = [...(config.Env ?? []), "PLUGIN_${name.toUpperCase()}=1"]; } });`,
      "",
    ].join("\n"),
  };
}

/** Writes a fixture plugin folder at `root/dir`. */
export async function writePlugin(root: string, dir: string, plugin: FixturePlugin): Promise<string> {
  const folder = join(root, dir);
  await mkdir(folder, { recursive: true });
  const pkg = { name: `fixture-${dir.replace(/\W+/g, "-")}`, private: true, type: "module", ...(plugin.manifest && { hookplugin: plugin.manifest }) };
  await writeFile(join(folder, "package.json"), `${JSON.stringify(pkg, null, 2)}\n`);
  await writeFile(join(folder, "index.ts"), plugin.source);
  return folder;
}
