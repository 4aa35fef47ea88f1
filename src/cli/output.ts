/**
 * How the CLI prints: plain text tables for people, JSON with --json, errors on stderr, and its exit codes.
 */

/** Exit status of a failed command. */
export const exitFailure = 1;
/** Exit status of a command line the CLI cannot understand. */
export const exitUsage = 2;

/** A wrong command line (exit status 2). */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Where and how a command writes its results. */
export interface Output {
  /** Whether --json was given. */
  readonly json: boolean;
  /** Writes one line (or lines) to stdout. */
  line(text?: string): void;
  /** Writes `value` as JSON to stdout. */
  data(value: unknown): void;
}

/** An Output on process.stdout. */
export function createOutput(json: boolean): Output {
  return {
    json,
    line: (text = "") => void process.stdout.write(`${text}\n`),
    data: (value) => void process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
  };
}

/** Prints `error` on stderr (as JSON with --json). */
export function printError(error: unknown, json: boolean): void {
  const message = error instanceof Error ? error.message : String(error);
  const kind = error instanceof Error ? error.name : "Error";
  process.stderr.write(json ? `${JSON.stringify({ error: { kind, message } })}\n` : `hookplugins: error: ${message}\n`);
}

/** Lays out rows under headers, columns separated by two spaces (no trailing spaces). */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const render = (cells: readonly string[]): string =>
    cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ").trimEnd();
  return [render(headers), ...rows.map(render)];
}
