/**
 * The plugin state file: which plugins an operator disabled. Written atomically under a lock; read by hosts at start.
 */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { writeFileAtomic } from "./atomicWrite.js";
import { withLock, type LockOptions } from "./lockFile.js";
import { shareInstanceof } from "../errors.js";

/** What the state file holds. */
export interface PluginState {
  /** Names of the plugins the host must skip, sorted. */
  readonly disabled: readonly string[];
}

/** The state file exists but cannot be used; it is left as it is. */
export class PluginStateError extends Error {
  override name = "PluginStateError";
  /** The state file. */
  readonly path: string;

  /** Creates the error for `path`; `problem` says what is wrong. */
  constructor(path: string, problem: string, cause?: unknown) {
    super(`plugin state file ${path} ${problem}; fix it or delete it (deleting enables every plugin)`, { cause });
    this.path = path;
  }
}
shareInstanceof(PluginStateError, "PluginStateError");

/** The file format version written in the state file. */
export const pluginStateFormat = 1;

/** Parses a state file's text; throws PluginStateError when it is not a valid state file. */
export function parsePluginState(path: string, text: string): PluginState {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new PluginStateError(path, `is not valid JSON (${(error as Error).message})`, error);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new PluginStateError(path, `must hold a JSON object like {"version": 1, "disabled": []}`);
  }
  const record = data as Record<string, unknown>;
  if (record["version"] !== pluginStateFormat) {
    throw new PluginStateError(path, `has version ${JSON.stringify(record["version"])}, expected ${pluginStateFormat}`);
  }
  const disabled = record["disabled"];
  if (!Array.isArray(disabled) || !disabled.every((name): name is string => typeof name === "string")) {
    throw new PluginStateError(path, `must have "disabled": an array of plugin names`);
  }
  return { disabled: [...new Set(disabled)].sort() };
}

/** Renders `state` as the state file's text. */
export function formatPluginState(state: PluginState): string {
  return `${JSON.stringify({ version: pluginStateFormat, disabled: [...new Set(state.disabled)].sort() }, null, 2)}\n`;
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === "ENOENT";
}

/** The state file exists but reading it failed (a folder, no permission, an I/O error): a PluginStateError naming it. */
function unreadable(path: string, error: unknown): PluginStateError {
  return new PluginStateError(path, `cannot be read (${error instanceof Error ? error.message : String(error)})`, error);
}

/**
 * Reads the state file. A missing file means every plugin is enabled. A file that exists but cannot be read or is not
 * a valid state file throws PluginStateError (never a guess: a plugin may have been disabled for a good reason).
 */
export async function readPluginState(path: string): Promise<PluginState> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if (isMissing(error)) return { disabled: [] };
    throw unreadable(path, error);
  }
  return parsePluginState(path, text);
}

/** Synchronous readPluginState, for host start-up; the same rules. */
export function readPluginStateSync(path: string): PluginState {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if (isMissing(error)) return { disabled: [] };
    throw unreadable(path, error);
  }
  return parsePluginState(path, text);
}

/** The names a host must skip, from the state file at `path` (none when the file does not exist; PluginStateError when it is unusable). */
export function disabledFromStateFile(path: string): string[] {
  return [...readPluginStateSync(path).disabled];
}

/**
 * Reads, changes and writes the state file as one step under its lock (`<path>.lock`), so concurrent updates are not lost.
 * A corrupt file is reported and left untouched. Returns the new state.
 */
export async function updatePluginState(
  path: string,
  change: (state: PluginState) => PluginState,
  options?: LockOptions,
): Promise<PluginState> {
  return withLock(
    `${path}.lock`,
    async () => {
      const next = change(await readPluginState(path));
      await writeFileAtomic(path, formatPluginState(next));
      return parsePluginState(path, formatPluginState(next));
    },
    options,
  );
}

/** Replaces the state file's content (atomically, under its lock). */
export async function writePluginState(path: string, state: PluginState, options?: LockOptions): Promise<void> {
  await updatePluginState(path, () => state, options);
}

/** Marks `names` enabled (`enabled` true) or disabled in the state file; returns the new state. */
export async function setPluginsEnabled(path: string, names: readonly string[], enabled: boolean): Promise<PluginState> {
  return updatePluginState(path, (state) => ({
    disabled: enabled ? state.disabled.filter((name) => !names.includes(name)) : [...state.disabled, ...names],
  }));
}
