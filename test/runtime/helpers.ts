/**
 * Shared pieces of the runtime wrapper's tests: a temporary host project whose plugins are two probes (priority 10 and
 * -5, see fixtures/probePlugin.ts), installing a wrapper for it, a fake "real runtime" that records its argv, running
 * the wrapper as an engine would, and reading the probes' trace.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { ContainerJSON } from "hookplugins";
import { installRuntimeWrapper, type InstalledRuntimeWrapper, type InstallRuntimeWrapperOptions } from "../../src/runtime/install.js";

/** The repository's root. */
export const repoRoot = resolve(fileURLToPath(import.meta.url), "../../..");

/** The probe hook script (absolute). */
export const probeHookScript = join(repoRoot, "test/runtime/fixtures/probe-hook.sh");

const probeModule = join(repoRoot, "test/runtime/fixtures/probePlugin.ts");

/** Temporary folders made by a test file, removed by `removeTempDirs` (call it in afterAll/afterEach). */
const made: string[] = [];

/** A new private temporary folder (mode 0700), removed by removeTempDirs. */
export async function tempDir(prefix = "hprt-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Removes every folder tempDir made. */
export async function removeTempDirs(): Promise<void> {
  for (const dir of made.splice(0)) await rm(dir, { recursive: true, force: true });
}

/** One probe plugin of a test project. */
export interface ProbeSpec {
  /** Plugin name. */
  readonly name: string;
  /** Priority. */
  readonly priority: number;
}

/** The two probes: one before the spec's own hooks (10), one after them (-5). */
export const defaultProbes: readonly ProbeSpec[] = [
  { name: "probe-early", priority: 10 },
  { name: "probe-late", priority: -5 },
];

/** Writes a host project in `dir` whose plugins are `probes`, tracing into `trace`; returns the project folder. */
export async function makeProbeProject(dir: string, trace: string, probes: readonly ProbeSpec[] = defaultProbes): Promise<string> {
  const root = join(dir, "project");
  await mkdir(root, { recursive: true });
  for (const probe of probes) {
    const folder = join(root, "plugins", probe.name);
    await mkdir(folder, { recursive: true });
    const manifest = { name: probe.name, version: "0.1.0", engines: { hookplugins: ">=0.1.0 <1.0.0" } };
    await writeFile(join(folder, "package.json"), JSON.stringify({ name: probe.name, type: "module", main: "./index.ts", hookplugin: manifest }));
    await writeFile(
      join(folder, "index.ts"),
      [
        'import { registerContainerPlugin } from "hookplugins";',
        `import { createProbePlugin } from ${JSON.stringify(probeModule)};`,
        `registerContainerPlugin(createProbePlugin(${JSON.stringify({ ...probe, trace, hook: probeHookScript })}));`,
        "",
      ].join("\n"),
    );
  }
  await writeFile(join(root, "hookplugins.json"), JSON.stringify({ plugins: probes.map((p) => `./plugins/${p.name}`), generated: false }));
  return root;
}

/** Installs a wrapper for the project at `root` into `dir`/bin (in this process, as the CLI does). */
export async function installWrapper(
  root: string,
  dir: string,
  options: Partial<InstallRuntimeWrapperOptions> & { runtime: string },
): Promise<InstalledRuntimeWrapper> {
  return installRuntimeWrapper({
    root,
    out: join(dir, "bin", "hp-runtime"),
    stateFile: join(root, ".hookplugins/state.json"),
    handoffDir: join(dir, "handoffs"),
    ...options,
  });
}

/** A probe setup: its folder, the trace file, the hand-off folder, the project and the installed wrapper. */
export interface ProbeWrapper {
  /** The temporary folder holding everything. */
  readonly dir: string;
  /** The probes' trace file. */
  readonly trace: string;
  /** The wrapper's hand-off folder. */
  readonly handoffs: string;
  /** The host project (the two default probes). */
  readonly project: string;
  /** The wrapper script. */
  readonly wrapper: string;
}

/** A new temporary folder with the two-probe project and a wrapper for it over the real runtime `runtime`. */
export async function probeWrapper(runtime: string, prefix?: string): Promise<ProbeWrapper> {
  const dir = await tempDir(prefix);
  const trace = join(dir, "trace");
  const project = await makeProbeProject(dir, trace);
  const { config } = await installWrapper(project, dir, { runtime });
  return { dir, trace, handoffs: config.handoffDir, project, wrapper: config.wrapper };
}

/** A fake "real runtime" in `dir`: records each call's argv and exits 0 (or `code`). */
export async function writeFakeRuntime(dir: string, code = 0): Promise<{ path: string; calls: () => string[][] }> {
  const path = join(dir, "fake-runtime");
  const log = join(dir, "fake-runtime.calls");
  // each call: the argument count, then each argument, every item followed by a NUL
  await writeFile(path, `#!/bin/sh\n{ printf '%s\\0' "$#"; for a do printf '%s\\0' "$a"; done; } >> '${log}'\nexit ${code}\n`);
  await chmod(path, 0o755);
  return {
    path,
    calls: () => {
      if (!existsSync(log)) return [];
      const items = readFileSync(log, "utf8").split("\0");
      const calls: string[][] = [];
      for (let i = 0; i < items.length - 1; ) {
        const n = Number(items[i]);
        calls.push(items.slice(i + 1, i + 1 + n));
        i += n + 1;
      }
      return calls;
    },
  };
}

/** What a wrapper run printed. */
export interface RunResult {
  /** Exit status. */
  readonly code: number;
  /** Standard output. */
  readonly stdout: string;
  /** Standard error. */
  readonly stderr: string;
}

/** Runs `file` with `args` (no shell), as an engine does; never rejects for a non-zero exit. */
export function runFile(file: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((done, fail) => {
    execFile(file, [...args], { env: options.env ?? process.env, cwd: options.cwd, timeout: options.timeoutMs ?? 30_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== "number") return fail(new Error(`${file} ${args.join(" ")}: ${error.message}\n${stderr}`));
      done({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

/** One run of a probe hook, from the trace file. */
export interface ProbeRun {
  /** The probe's name. */
  readonly name: string;
  /** Whether Docker's network hook had run: "registered", "unregistered", or "-" without it. */
  readonly net: string;
  /** PROBE_MARK from the hook's env. */
  readonly mark: string;
  /** The hook's arguments after the trace file and the name. */
  readonly args: readonly string[];
  /** The OCI state the runtime gave the hook on stdin. */
  readonly state: { readonly id: string; readonly pid: number; readonly bundle: string; readonly status?: string };
}

/** The probe runs in `trace`, in order (optionally only those of container `id`). */
export function readTrace(trace: string, id?: string): ProbeRun[] {
  if (!existsSync(trace)) return [];
  return readFileSync(trace, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const [name, net, mark, args, ...state] = line.split("\t");
      return { name: name!, net: net!, mark: mark!, args: args!.split("|").slice(0, -1), state: JSON.parse(state.join("\t")) as ProbeRun["state"] };
    })
    .filter((run) => id === undefined || run.state.id === id);
}

/** The container object the probes' preStart got for container `id` (saved beside the trace). */
export function containerSeen(trace: string, id: string): ContainerJSON {
  return JSON.parse(readFileSync(`${trace}.${id}.container.json`, "utf8")) as ContainerJSON;
}

/** Waits until `check` is true (polling), or throws after `ms` with `what`. */
export async function waitFor(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
