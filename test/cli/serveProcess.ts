/**
 * `hookplugins serve` of the built package as a child process: started, its ready line awaited, and killed (SIGKILL)
 * at the end of the file.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { builtPackage } from "./helpers.js";

/** A running `hookplugins serve`. */
export interface ServeProcess {
  /** The child process. */
  readonly child: ChildProcess;
  /** Its first stdout line (the ready line). */
  readonly ready: string;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with its exit code (or signal name) when it exits. */
  readonly exit: Promise<number | string | null>;
}

const started: ChildProcess[] = [];

/** Runs `hookplugins serve <args>` in `cwd` (with `env` added) and waits for its ready line (rejects with its output if it exits first). */
export async function startServe(cwd: string, args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [join(await builtPackage(), "dist", "cli.js"), "serve", ...args], { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  started.push(child);
  let out = "";
  let all = "";
  child.stdout!.on("data", (c) => ((out += String(c)), (all += String(c))));
  child.stderr!.on("data", (c) => (all += String(c)));
  const exit = new Promise<number | string | null>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal)));
  const end = Date.now() + 20_000;
  while (!out.includes("\n")) {
    if (child.exitCode !== null || Date.now() > end) throw new Error(`hookplugins serve did not start: ${all}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { child, ready: out.slice(0, out.indexOf("\n")), output: () => all, exit };
}

/** SIGKILLs every serve process still running (call from afterAll). */
export function killServeProcesses(): void {
  for (const child of started.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}
