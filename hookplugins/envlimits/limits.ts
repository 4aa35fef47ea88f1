/**
 * Reading resource limits from HOOKPLUGINS_* environment entries and writing them to resource fields.
 * Pure functions: no I/O, no hookplugins imports.
 */

/** The resource fields envlimits sets (PouchContainer's `Resources` names, shared by HostConfig and update bodies). */
export type LimitField = "Memory" | "MemorySwap" | "CpuShares" | "CpuQuota" | "CpuPeriod" | "PidsLimit";

/** One environment variable envlimits understands. */
export interface LimitVariable {
  /** The environment variable name, e.g. "HOOKPLUGINS_MEMORY". */
  readonly variable: string;
  /** The resource field it sets. */
  readonly field: LimitField;
  /** The accepted forms, as error messages and the README state them. */
  readonly accepted: string;
  /** The value as a number, or undefined when `raw` is not an accepted form. */
  readonly parse: (raw: string) => number | undefined;
}

const units: Record<string, number> = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** Bytes of a docker-style size (512m, 1g, 1024k, 1.5g, 100b, 1048576; units b/k/m/g, any case, optional trailing "b"). */
export function parseSize(raw: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(?:([kmg])b?|(b))?$/i.exec(raw);
  if (!match) return undefined;
  const unit = (match[2] ?? match[3] ?? "").toLowerCase();
  const bytes = Math.floor(Number(match[1]) * units[unit]!);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

function wholeNumber(raw: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (!/^-?\d+$/.test(raw)) return undefined;
  const value = Number(raw);
  return Number.isSafeInteger(value) && value >= min && value <= max ? value : undefined;
}

const sizeForms = "a size > 0: bytes with an optional unit b, k, m or g (any case), e.g. 512m, 1g, 1024k, 1048576";

/** Every variable envlimits reads, in the order it applies them. */
export const limitVariables: readonly LimitVariable[] = [
  {
    variable: "HOOKPLUGINS_MEMORY",
    field: "Memory",
    accepted: sizeForms,
    parse: (raw) => {
      const bytes = parseSize(raw);
      return bytes !== undefined && bytes > 0 ? bytes : undefined;
    },
  },
  {
    variable: "HOOKPLUGINS_MEMORY_SWAP",
    field: "MemorySwap",
    accepted: `-1 (unlimited swap) or ${sizeForms}`,
    parse: (raw) => {
      if (raw === "-1") return -1;
      const bytes = parseSize(raw);
      return bytes !== undefined && bytes > 0 ? bytes : undefined;
    },
  },
  {
    variable: "HOOKPLUGINS_CPU_SHARES",
    field: "CpuShares",
    accepted: "a whole number from 2 to 262144 (relative CPU weight; 1024 is the default weight)",
    parse: (raw) => wholeNumber(raw, 2, 262_144),
  },
  {
    variable: "HOOKPLUGINS_CPU_QUOTA",
    field: "CpuQuota",
    accepted: "a whole number of microseconds >= 1000, or -1 for no quota",
    parse: (raw) => (raw === "-1" ? -1 : wholeNumber(raw, 1000)),
  },
  {
    variable: "HOOKPLUGINS_CPU_PERIOD",
    field: "CpuPeriod",
    accepted: "a whole number of microseconds from 1000 to 1000000",
    parse: (raw) => wholeNumber(raw, 1000, 1_000_000),
  },
  {
    variable: "HOOKPLUGINS_PIDS_LIMIT",
    field: "PidsLimit",
    accepted: "a whole number >= 1, or -1 for unlimited",
    parse: (raw) => (raw === "-1" ? -1 : wholeNumber(raw, 1)),
  },
];

const byName = new Map(limitVariables.map((v) => [v.variable, v]));

/** What extractLimits found in an Env list. */
export interface ExtractedLimits {
  /** The parsed limits by field (the last entry wins when a variable appears twice, as in docker). */
  readonly limits: ReadonlyMap<LimitField, number>;
  /** The Env list without the HOOKPLUGINS_* limit entries, other entries in their original order. */
  readonly env: string[];
  /** How many entries were removed. */
  readonly removed: number;
}

/** Parses and removes the limit entries of `env`; throws an Error naming the variable, the bad value and the accepted forms. */
export function extractLimits(env: readonly string[]): ExtractedLimits {
  const limits = new Map<LimitField, number>();
  const rest: string[] = [];
  for (const entry of env) {
    const eq = entry.indexOf("=");
    const key = eq === -1 ? entry : entry.slice(0, eq);
    const known = byName.get(key);
    if (!known) {
      rest.push(entry);
      continue;
    }
    const raw = eq === -1 ? undefined : entry.slice(eq + 1);
    const value = raw === undefined ? undefined : known.parse(raw);
    if (value === undefined) {
      const shown = raw === undefined ? "no value (the entry has no '=')" : JSON.stringify(raw);
      throw new Error(`${known.variable}=${shown} is invalid: expected ${known.accepted}`);
    }
    limits.set(known.field, value);
  }
  return { limits, env: rest, removed: env.length - rest.length };
}

/** Whether the user set `field` themselves: a number other than 0 (clients send 0 for "not set"). */
export function isExplicit(target: Readonly<Record<string, unknown>>, field: LimitField): boolean {
  const value = target[field];
  return typeof value === "number" && value !== 0;
}

/**
 * Writes `limits` into `target` (a HostConfig or an update body) except where the user set the field explicitly:
 * the explicit value wins. Returns the fields that were kept because of that.
 */
export function applyLimits(target: Record<string, unknown>, limits: ReadonlyMap<LimitField, number>): LimitField[] {
  const kept: LimitField[] = [];
  for (const [field, value] of limits) {
    if (isExplicit(target, field)) kept.push(field);
    else target[field] = value;
  }
  return kept;
}
