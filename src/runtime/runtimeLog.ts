/**
 * Errors in the OCI runtime's own log format, where engines look for them: runc's JSON lines
 * (`{"level":"error","msg":"...","time":"..."}`, what containerd's shim reads into "OCI runtime create failed: ...")
 * with `--log-format json`, logrus text lines otherwise; written to the `--log` file and to stderr.
 */
import { appendFileSync, writeSync } from "node:fs";
import type { RuntimeGlobals } from "./runtimeArgs.js";

/** One log line (with its newline) in `format`. */
export function formatRuntimeLogLine(format: "json" | "text", level: "error" | "warning", msg: string, time: Date = new Date()): string {
  const at = time.toISOString();
  if (format === "json") return `${JSON.stringify({ level, msg, time: at })}\n`;
  return `time=${JSON.stringify(at)} level=${level} msg=${JSON.stringify(msg)}\n`;
}

/** Where a report goes; the defaults are the process's stderr and the file system. */
export interface RuntimeLogSinks {
  /** Writes to stderr. */
  readonly stderr: (text: string) => void;
  /** Appends to a file. */
  readonly append: (path: string, text: string) => void;
}

/** Synchronous sinks: a report is on disk before the process exits. */
export const processLogSinks: RuntimeLogSinks = {
  stderr: (text) => void writeSync(2, text),
  append: (path, text) => appendFileSync(path, text),
};

/**
 * Writes `msg` at `level` to the `--log` file (when given) and to stderr, in the `--log-format` of `globals`.
 * A log file that cannot be written does not hide the message: it still reaches stderr, with the reason.
 */
export function reportToRuntimeLog(globals: RuntimeGlobals, level: "error" | "warning", msg: string, sinks: RuntimeLogSinks = processLogSinks): void {
  const line = formatRuntimeLogLine(globals.logFormat, level, msg);
  if (globals.log !== undefined && globals.log !== "") {
    try {
      sinks.append(globals.log, line);
    } catch (error) {
      sinks.stderr(formatRuntimeLogLine(globals.logFormat, "warning", `cannot write the runtime log ${globals.log}: ${(error as Error).message}`));
    }
  }
  sinks.stderr(line);
}
