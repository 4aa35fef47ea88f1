/**
 * Option values that several commands take, parsed once here so each gives the same usage error.
 */
import { UsageError } from "./output.js";

/** `--timeout <ms>` as a number of milliseconds (undefined when not given); a usage error unless it is a whole number >= 1. */
export function timeoutOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 1) throw new UsageError(`--timeout must be a whole number of milliseconds >= 1, got "${value}"`);
  return ms;
}
