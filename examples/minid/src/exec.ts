/**
 * Running helper programs (tar, cp, runc) and collecting their output.
 */
import { spawn } from "node:child_process";
import type { Readable } from "node:stream";

/** What a finished program printed and how it exited. */
export interface ExecResult {
  /** Exit code (128 + signal number when killed by a signal). */
  code: number;
  /** Everything written to stdout. */
  stdout: string;
  /** Everything written to stderr. */
  stderr: string;
}

/** Runs `file args` to completion, optionally feeding `input` to its stdin; never throws for a non-zero exit. */
export function execFileCollect(file: string, args: readonly string[], input?: Readable): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: [input ? "pipe" : "ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr?.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.on("error", reject);
    if (input && child.stdin) {
      child.stdin.on("error", () => undefined); // the program may exit before reading everything
      input.on("error", (err) => child.kill("SIGKILL") && reject(err));
      input.pipe(child.stdin);
    }
    child.on("close", (code, signal) => {
      resolve({ code: code ?? 128 + signalNumber(signal), stdout, stderr });
    });
  });
}

/** Runs `file args` and fails with its stderr when it exits non-zero. */
export async function execFileChecked(file: string, args: readonly string[], input?: Readable): Promise<ExecResult> {
  const result = await execFileCollect(file, args, input);
  if (result.code !== 0) {
    throw new Error(`${file} ${args.join(" ")} exited with ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`);
  }
  return result;
}

const signals: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };

/** The number of a signal name (0 when unknown or null). */
export function signalNumber(signal: NodeJS.Signals | null): number {
  return signal ? (signals[signal] ?? 0) : 0;
}
