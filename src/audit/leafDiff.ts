/**
 * Leaf differences between two JSON-like values, addressed by JSON pointers (RFC 6901). Objects are walked key by
 * key; everything else (strings, numbers, booleans, null, arrays) is a leaf compared as a whole, so a changed `Env`
 * is one change at `/Env`, not one per shifted element. Pure functions.
 */

/** One leaf that differs: `before` or `after` is undefined when the field is absent on that side. */
export interface LeafChange {
  /** JSON pointer of the leaf, e.g. "/HostConfig/Memory" ("" is the whole value). */
  readonly pointer: string;
  /** The value before (undefined: the field did not exist). */
  readonly before: unknown;
  /** The value after (undefined: the field was removed). */
  readonly after: unknown;
}

/** Whether `value` is a plain object (walked key by key), not an array, null or a class instance. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** One reference token of a JSON pointer: "~" becomes "~0" and "/" becomes "~1". */
export function escapePointerToken(token: string): string {
  return token.replace(/~/g, "~0").replace(/\//g, "~1");
}

/** Deep equality of JSON-like values (a key holding undefined counts as absent). */
export function sameData(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => sameData(item, b[i]));
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  for (const key of Object.keys(ra)) if (!sameData(ra[key], rb[key])) return false;
  for (const key of Object.keys(rb)) if (!(key in ra) && rb[key] !== undefined) return false;
  return true;
}

function walk(before: unknown, after: unknown, pointer: string, out: LeafChange[]): void {
  if (isPlainObject(before) && isPlainObject(after)) {
    for (const key of Object.keys(before)) walk(before[key], after[key], `${pointer}/${escapePointerToken(key)}`, out);
    for (const key of Object.keys(after)) {
      if (!Object.prototype.hasOwnProperty.call(before, key)) walk(undefined, after[key], `${pointer}/${escapePointerToken(key)}`, out);
    }
    return;
  }
  if (before === undefined && isPlainObject(after)) {
    // a new object: report its leaves, so that an added HostConfig.Memory reads /HostConfig/Memory
    for (const key of Object.keys(after)) walk(undefined, after[key], `${pointer}/${escapePointerToken(key)}`, out);
    return;
  }
  if (after === undefined && isPlainObject(before)) {
    for (const key of Object.keys(before)) walk(before[key], undefined, `${pointer}/${escapePointerToken(key)}`, out);
    return;
  }
  if (!sameData(before, after)) out.push({ pointer, before, after });
}

/** Every leaf that differs between `before` and `after`, in key order (before's keys first, then new ones). */
export function diffLeaves(before: unknown, after: unknown): LeafChange[] {
  const out: LeafChange[] = [];
  walk(before, after, "", out);
  return out;
}
