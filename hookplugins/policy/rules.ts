/**
 * The policy rules: what a policy configuration holds, how it is checked, and what a container or volume
 * configuration must satisfy. Pure functions: no I/O, no hookplugins imports.
 */
import { posix } from "node:path";

/** A policy configuration, as written in the JSON file or the HOOKPLUGINS_POLICY variable. Every rule is off when absent. */
export interface PolicyRules {
  /** true: containers may not run privileged (`--privileged`, HostConfig.Privileged). */
  readonly denyPrivileged?: boolean;
  /** Host paths a bind mount may come from (`-v /host:/ctr`, `--mount type=bind`): each source must be one of these folders or inside one. */
  readonly allowedBindPrefixes?: readonly string[];
  /** Labels every container must carry (`--label key=value`). */
  readonly requiredLabels?: readonly string[];
  /** The memory ceiling (bytes, or a size such as "512m", "1g"): a container must set a memory limit (`-m`) of at most this. */
  readonly maxMemory?: number | string;
  /** Volume drivers a volume may use (`docker volume create -d <driver>`; no driver counts as "local"). */
  readonly allowedVolumeDrivers?: readonly string[];
  /** Driver option keys a volume may set (`-o key=value`). */
  readonly allowedVolumeOptions?: readonly string[];
}

/** The name of one rule: a key of PolicyRules. */
export type PolicyRuleName = keyof PolicyRules;

/** One rule a configuration breaks, with what to do about it. */
export interface PolicyViolation {
  /** The rule, as named in the policy configuration. */
  readonly rule: PolicyRuleName;
  /** What is wrong and how to fix it. */
  readonly message: string;
}

/** A container or volume configuration breaks one or more rules; the message lists each with its fix. */
export class PolicyViolationError extends Error {
  override name = "PolicyViolationError";
  /** Every rule broken, in rule order. */
  readonly violations: readonly PolicyViolation[];

  /** Creates the error for `violations` (at least one). */
  constructor(violations: readonly PolicyViolation[]) {
    super(violations.map((v) => `policy rule ${v.rule}: ${v.message}`).join("; "));
    this.violations = violations;
  }
}

/** A policy configuration is invalid; the message names the source, the key and the expected form. */
export class PolicyConfigError extends Error {
  override name = "PolicyConfigError";
}

/** Every rule name, in the order rules are checked and documented. */
export const ruleNames: readonly PolicyRuleName[] = [
  "denyPrivileged",
  "allowedBindPrefixes",
  "requiredLabels",
  "maxMemory",
  "allowedVolumeDrivers",
  "allowedVolumeOptions",
];

const units: Record<string, number> = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Bytes of a docker-style size ("512m", "1g", "1048576"), or undefined when it is not one. */
export function parseSize(raw: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*(?:([kmgt])i?b?|(b))?$/i.exec(raw.trim());
  if (!match) return undefined;
  const bytes = Math.floor(Number(match[1]) * units[(match[2] ?? match[3] ?? "").toLowerCase()]!);
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}

/** A byte count for messages: "512 MiB", "1 GiB", "1500 bytes". */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [["TiB", 1024 ** 4], ["GiB", 1024 ** 3], ["MiB", 1024 ** 2], ["KiB", 1024]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`;
  }
  return `${bytes} bytes`;
}

/** A byte count as the docker CLI's -m flag takes it: "512m", "1g", "1536k", "1000". */
export function dockerSize(bytes: number): string {
  for (const [unit, size] of [["g", 1024 ** 3], ["m", 1024 ** 2], ["k", 1024]] as const) {
    if (bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}

function stringList(source: string, key: string, value: unknown, check?: (item: string) => string | undefined): readonly string[] {
  if (!Array.isArray(value) || !value.every((item): item is string => typeof item === "string" && item !== "")) {
    throw new PolicyConfigError(`${source}: "${key}" must be an array of non-empty strings, got ${JSON.stringify(value)}`);
  }
  for (const item of value) {
    const problem = check?.(item);
    if (problem) throw new PolicyConfigError(`${source}: "${key}" entry ${JSON.stringify(item)} ${problem}`);
  }
  return value;
}

/** Checks a parsed policy configuration from `source` (a file name or variable, for messages) and returns it typed. */
export function validateRules(value: unknown, source: string): PolicyRules {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new PolicyConfigError(`${source} must hold a JSON object of rules (${ruleNames.join(", ")})`);
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!(ruleNames as readonly string[]).includes(key)) {
      throw new PolicyConfigError(`${source}: unknown rule "${key}"; known rules: ${ruleNames.join(", ")}`);
    }
  }
  const rules: { -readonly [K in PolicyRuleName]?: PolicyRules[K] } = {};
  if (record["denyPrivileged"] !== undefined) {
    if (typeof record["denyPrivileged"] !== "boolean") {
      throw new PolicyConfigError(`${source}: "denyPrivileged" must be true or false, got ${JSON.stringify(record["denyPrivileged"])}`);
    }
    rules.denyPrivileged = record["denyPrivileged"];
  }
  if (record["allowedBindPrefixes"] !== undefined) {
    rules.allowedBindPrefixes = stringList(source, "allowedBindPrefixes", record["allowedBindPrefixes"], (p) =>
      p.startsWith("/") ? undefined : "must be an absolute path",
    );
  }
  if (record["requiredLabels"] !== undefined) rules.requiredLabels = stringList(source, "requiredLabels", record["requiredLabels"]);
  if (record["maxMemory"] !== undefined) {
    const raw = record["maxMemory"];
    const bytes = typeof raw === "number" ? (Number.isSafeInteger(raw) && raw > 0 ? raw : undefined) : typeof raw === "string" ? parseSize(raw) : undefined;
    if (bytes === undefined) {
      throw new PolicyConfigError(`${source}: "maxMemory" must be a number of bytes > 0 or a size such as "512m" or "1g", got ${JSON.stringify(raw)}`);
    }
    rules.maxMemory = bytes;
  }
  if (record["allowedVolumeDrivers"] !== undefined) rules.allowedVolumeDrivers = stringList(source, "allowedVolumeDrivers", record["allowedVolumeDrivers"]);
  if (record["allowedVolumeOptions"] !== undefined) rules.allowedVolumeOptions = stringList(source, "allowedVolumeOptions", record["allowedVolumeOptions"]);
  return rules;
}

/** Whether `path` is `prefix` or inside it (after normalising `..` and duplicate slashes). */
export function isUnder(path: string, prefix: string): boolean {
  const p = posix.normalize(path);
  const base = posix.normalize(prefix).replace(/\/+$/, "");
  return base === "" || p === base || p.startsWith(`${base}/`);
}

/** The host paths a container binds in: from HostConfig.Binds ("/src:/dst[:mode]") and HostConfig.Mounts (Type "bind"). */
export function hostBindSources(hostConfig: Record<string, unknown> | undefined): { source: string; from: string }[] {
  const out: { source: string; from: string }[] = [];
  const binds = hostConfig?.["Binds"];
  if (Array.isArray(binds)) {
    binds.forEach((bind: unknown, i) => {
      if (typeof bind !== "string") return;
      const source = bind.split(":")[0] ?? "";
      // a source that is not an absolute path is a named volume, not a host path
      if (source.startsWith("/")) out.push({ source, from: `HostConfig.Binds[${i}] ${JSON.stringify(bind)}` });
    });
  }
  const mounts = hostConfig?.["Mounts"];
  if (Array.isArray(mounts)) {
    mounts.forEach((mount: unknown, i) => {
      const m = mount as { Type?: unknown; Source?: unknown } | null;
      if (m && m.Type === "bind" && typeof m.Source === "string") out.push({ source: m.Source, from: `HostConfig.Mounts[${i}]` });
    });
  }
  return out;
}

/** The rules a container create config breaks (empty: allowed). */
export function checkContainer(config: { Labels?: Record<string, string> | null; HostConfig?: object | null }, rules: PolicyRules): PolicyViolation[] {
  const violations: PolicyViolation[] = [];
  const hostConfig = (config.HostConfig ?? undefined) as Record<string, unknown> | undefined;
  if (rules.denyPrivileged && hostConfig?.["Privileged"] === true) {
    violations.push({ rule: "denyPrivileged", message: "privileged containers are not allowed; run it without --privileged (HostConfig.Privileged)" });
  }
  if (rules.allowedBindPrefixes) {
    const allowed = rules.allowedBindPrefixes;
    for (const { source, from } of hostBindSources(hostConfig)) {
      if (!allowed.some((prefix) => isUnder(source, prefix))) {
        violations.push({
          rule: "allowedBindPrefixes",
          message: `host path ${JSON.stringify(source)} (${from}) is outside the allowed folders ${allowed.join(", ")}; bind a folder inside one of them, or use a named volume`,
        });
      }
    }
  }
  if (rules.requiredLabels) {
    const labels = config.Labels ?? {};
    const missing = rules.requiredLabels.filter((label) => typeof labels[label] !== "string" || labels[label] === "");
    if (missing.length) {
      violations.push({
        rule: "requiredLabels",
        message: `missing label${missing.length === 1 ? "" : "s"} ${missing.map((l) => JSON.stringify(l)).join(", ")}; add ${missing.map((l) => `--label ${l}=<value>`).join(" ")}`,
      });
    }
  }
  if (rules.maxMemory !== undefined) {
    const ceiling = typeof rules.maxMemory === "number" ? rules.maxMemory : parseSize(rules.maxMemory)!;
    const memory = hostConfig?.["Memory"];
    if (typeof memory !== "number" || memory <= 0) {
      violations.push({ rule: "maxMemory", message: `no memory limit is set; set one of at most ${formatBytes(ceiling)} (-m ${dockerSize(ceiling)})` });
    } else if (memory > ceiling) {
      violations.push({ rule: "maxMemory", message: `memory limit ${formatBytes(memory)} is above the ceiling of ${formatBytes(ceiling)}; lower it to at most -m ${dockerSize(ceiling)}` });
    }
  }
  return violations;
}

/** The rules a volume create config breaks (empty: allowed). */
export function checkVolume(config: { Driver?: string | null; DriverOpts?: Record<string, string> | null }, rules: PolicyRules): PolicyViolation[] {
  const violations: PolicyViolation[] = [];
  if (rules.allowedVolumeDrivers) {
    const driver = config.Driver || "local";
    if (!rules.allowedVolumeDrivers.includes(driver)) {
      violations.push({ rule: "allowedVolumeDrivers", message: `volume driver ${JSON.stringify(driver)} is not allowed; use one of: ${rules.allowedVolumeDrivers.join(", ")} (-d <driver>)` });
    }
  }
  if (rules.allowedVolumeOptions) {
    const allowed = rules.allowedVolumeOptions;
    const bad = Object.keys(config.DriverOpts ?? {}).filter((key) => !allowed.includes(key));
    if (bad.length) {
      violations.push({
        rule: "allowedVolumeOptions",
        message: `volume option${bad.length === 1 ? "" : "s"} ${bad.map((k) => JSON.stringify(k)).join(", ")} not allowed; allowed options: ${allowed.length ? allowed.join(", ") : "none"}`,
      });
    }
  }
  return violations;
}
