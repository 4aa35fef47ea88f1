/**
 * Registration-time checks of a plugin object: every problem is a PluginRegistrationError saying what to fix.
 */
import { PluginRegistrationError } from "../errors.js";
import { hookMethods, pluginTypes, type HookName } from "../plugins/hookPoints.js";
import type { FailPolicy, PluginType } from "../plugins/interfaces.js";
import { nearMissOf } from "./nearMiss.js";

/** The metadata keys a plugin object may carry besides hook methods. */
export const metaKeys = ["name", "priority", "version", "description", "author", "timeoutMs", "failPolicy"] as const;

const allHookMethods: readonly string[] = [...new Set(pluginTypes.flatMap((t) => hookMethods[t]))];

/** A plugin object's checked metadata and hook functions. */
export interface ValidatedPlugin {
  /** The plugin's name. */
  readonly name: string;
  /** Finite priority (default 0). */
  readonly priority: number;
  /** Per-plugin timeout, when given. */
  readonly timeoutMs: number | undefined;
  /** Failure policy (default "fail-closed"). */
  readonly failPolicy: FailPolicy;
  /** The hook methods it implements, by method name, as they were at registration. */
  readonly methods: ReadonlyMap<string, (...args: never[]) => unknown>;
  /** The hook points it implements. */
  readonly hooks: readonly HookName[];
}

function memberNames(plugin: object): string[] {
  const names = new Set<string>();
  for (let o: object | null = plugin; o && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const key of Object.getOwnPropertyNames(o)) if (key !== "constructor") names.add(key);
  }
  return [...names];
}

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || value == null) return String(value);
  return typeof value;
}

/** Checks `plugin` as a `type` plugin and returns what the registry stores; throws PluginRegistrationError. */
export function validatePlugin(type: PluginType, plugin: unknown): ValidatedPlugin {
  if (typeof plugin !== "object" || plugin === null) {
    throw new PluginRegistrationError("<unnamed>", type, `expected a plugin object, got ${show(plugin)}`);
  }
  const record = plugin as Record<string, unknown>;
  const rawName = record["name"];
  if (typeof rawName !== "string" || rawName.trim() === "") {
    throw new PluginRegistrationError(
      "<unnamed>",
      type,
      `missing or empty name (got ${show(rawName)}): give the plugin object a non-empty string "name"`,
      "name",
    );
  }
  const name = rawName;
  const fail = (problem: string, member?: string): never => {
    throw new PluginRegistrationError(name, type, problem, member);
  };

  const priority = record["priority"] === undefined ? 0 : record["priority"];
  if (typeof priority !== "number" || !Number.isFinite(priority)) {
    fail(`priority must be a finite number (higher runs first), got ${show(priority)}`, "priority");
  }
  const timeoutMs = record["timeoutMs"];
  if (timeoutMs !== undefined && (typeof timeoutMs !== "number" || !Number.isFinite(timeoutMs) || timeoutMs < 0)) {
    fail(`timeoutMs must be a finite number of milliseconds >= 0 (0 turns the limit off), got ${show(timeoutMs)}`, "timeoutMs");
  }
  const failPolicy = record["failPolicy"] ?? "fail-closed";
  if (failPolicy !== "fail-closed" && failPolicy !== "fail-open") {
    fail(`failPolicy must be "fail-closed" or "fail-open", got ${show(failPolicy)}`, "failPolicy");
  }
  for (const key of ["version", "description", "author"] as const) {
    if (record[key] !== undefined && typeof record[key] !== "string") fail(`${key} must be a string, got ${show(record[key])}`, key);
  }

  const own: readonly string[] = hookMethods[type];
  const members = memberNames(plugin);
  for (const key of members) {
    if (own.includes(key) || allHookMethods.includes(key) || (metaKeys as readonly string[]).includes(key)) continue;
    const meant = nearMissOf(key, own) ?? nearMissOf(key, metaKeys);
    if (meant) fail(`member "${key}" is not a ${type} member: did you mean ${meant}?`, key);
  }

  const methods = new Map<string, (...args: never[]) => unknown>();
  for (const method of own) {
    const member = record[method];
    if (member === undefined) continue;
    if (typeof member !== "function") fail(`${method} must be a function, got ${show(member)}`, method);
    methods.set(method, member as (...args: never[]) => unknown);
  }
  if (methods.size === 0) {
    const elsewhere = pluginTypes.filter((t) => t !== type && hookMethods[t].some((m) => typeof record[m] === "function"));
    const hint = elsewhere.length
      ? `; it does implement ${elsewhere.join(", ")} methods: register it with ${elsewhere.map((t) => `register${t}`).join(" or ")}`
      : "";
    fail(`it implements none of the ${type} methods (${own.join(", ")})${hint}`);
  }
  return {
    name,
    priority: priority as number,
    timeoutMs: timeoutMs as number | undefined,
    failPolicy: failPolicy as FailPolicy,
    methods,
    hooks: [...methods.keys()].map((m) => `${type}.${m}` as HookName),
  };
}
