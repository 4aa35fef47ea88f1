/**
 * Test support for the CLI's daemon commands (docker-plugin, docker-proxy) run as processes: a temporary folder for
 * each test, the `hookplugins` CLI started from source with its output collected, every process it started killed
 * after the test, and a project folder with a manifest.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach } from "vitest";

/** The repository's root (the CLI runs there). */
export const repoRoot = resolve(fileURLToPath(import.meta.url), "../../..");
const cli = join(repoRoot, "src/cli/main.ts");

/** A `hookplugins` process. */
export interface CliProcess {
  child: ChildProcess;
  /** Its stdout and stderr so far, interleaved as they arrived. */
  output(): string;
  /** Its stdout so far. */
  stdout(): string;
  /** Its stderr so far. */
  stderr(): string;
  /** Its exit code (null when a signal ended it). */
  exit: Promise<number | null>;
}

/** What the tests of a CLI test file share. */
export interface CliTest {
  /** This test's temporary folder. */
  readonly dir: string;
  /** Starts `hookplugins args...` with `env` over this process's environment. */
  start(args: readonly string[], env?: NodeJS.ProcessEnv): CliProcess;
  /** Writes `<dir>/project/hookplugins.json` (`generated: false` and `manifest`) and returns that folder. */
  project(manifest: Record<string, unknown>): Promise<string>;
}

/**
 * Registers the hooks of a CLI test file and returns what they manage: before each test a new temporary folder
 * (named `prefix...`); after it every process still running killed (SIGKILL) and awaited, then `afterProcesses` (for
 * what the file opens itself), then the folder removed.
 */
export function useCliTest(prefix: string, afterProcesses?: () => void): CliTest {
  const procs: CliProcess[] = [];
  let dir = "";
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  afterEach(async () => {
    for (const p of procs.splice(0)) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
      await p.exit;
    }
    afterProcesses?.();
    await rm(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return dir;
    },
    start(args, env = {}) {
      const child = spawn(process.execPath, ["--import", "tsx", cli, ...args], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
      let [output, stdout, stderr] = ["", "", ""];
      child.stdout!.on("data", (c: Buffer) => ((output += c.toString()), (stdout += c.toString())));
      child.stderr!.on("data", (c: Buffer) => ((output += c.toString()), (stderr += c.toString())));
      const exit = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
      const proc = { child, output: () => output, stdout: () => stdout, stderr: () => stderr, exit };
      procs.push(proc);
      return proc;
    },
    async project(manifest) {
      const root = join(dir, "project");
      await mkdir(root, { recursive: true });
      await writeFile(join(root, "hookplugins.json"), JSON.stringify({ generated: false, ...manifest }));
      return root;
    },
  };
}

/** Waits until `proc`'s output includes `text`; throws with the output when it exits first or after 30 s. */
export async function untilOutput(proc: CliProcess, text: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!proc.output().includes(text)) {
    if (proc.child.exitCode !== null || Date.now() > deadline) throw new Error(`no "${text}" in:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
