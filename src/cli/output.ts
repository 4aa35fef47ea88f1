/**
 * How the CLI prints: plain text tables for people, JSON with --json, errors on stderr, and its exit codes.
 */

/** Exit status of a failed command. */
export const exitFailure = 1;
/** Exit status of a command line the CLI cannot understand. */
export const exitUsage = 2;

/** A wrong command line (exit status 2); printed with a hint to the command's --help. */
export class UsageError extends Error {
  override name = "UsageError";
  /** The command it was given to, e.g. "hookplugins explain" (set by the CLI when the command throws it). */
  command: string | undefined;

  /** Creates the error; `command` is the full command name, when known. */
  constructor(message: string, command?: string) {
    super(message);
    this.command = command;
  }
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

/** The hint printed after a usage error of `command` ("hookplugins plugin inspect"). */
export function helpHint(command: string): string {
  return `run \`${command} --help\` for usage`;
}

/** The text of an error on stderr: `hookplugins: error: ...`, then for usage errors a hint to --help (JSON with --json). */
export function formatError(kind: string, message: string, json: boolean, usageOf?: string): string {
  const hint = usageOf === undefined ? undefined : helpHint(usageOf);
  if (json) return `${JSON.stringify({ error: { kind, message, ...(hint !== undefined && { hint }) } })}\n`;
  return `hookplugins: error: ${message}\n${hint === undefined ? "" : `hookplugins: ${hint}\n`}`;
}

/** Prints `error` on stderr (as JSON with --json). */
export function printError(error: unknown, json: boolean): void {
  const message = error instanceof Error ? error.message : String(error);
  const kind = error instanceof Error ? error.name : "Error";
  const usageOf = error instanceof UsageError ? (error.command ?? "hookplugins") : undefined;
  process.stderr.write(formatError(kind, message, json, usageOf));
}

/** Lays out rows under headers, columns separated by two spaces (no trailing spaces). */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const render = (cells: readonly string[]): string =>
    cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ").trimEnd();
  return [render(headers), ...rows.map(render)];
}
