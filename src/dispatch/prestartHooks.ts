/**
 * Checking and merging the OCI prestart hooks that ContainerPlugin.preStart returns.
 */
import type { PrestartHook } from "../plugins/interfaces.js";

function show(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : Array.isArray(value) ? "an array" : String(value);
}

/** Checks one prestart hook and returns a copy; throws a TypeError naming the field and the fix. */
export function checkPrestartHook(hook: unknown, where: string): PrestartHook {
  if (typeof hook !== "object" || hook === null) throw new TypeError(`${where} must be an object { priority, path, args?, env?, timeout? }, got ${show(hook)}`);
  const h = hook as Record<string, unknown>;
  if (typeof h["priority"] !== "number" || !Number.isFinite(h["priority"])) {
    throw new TypeError(`${where}: priority must be a finite number (higher runs first; the network hook is 0), got ${show(h["priority"])}`);
  }
  const path = h["path"];
  if (typeof path !== "string" || !path.startsWith("/")) {
    throw new TypeError(`${where}: path must be a non-empty absolute path to an executable, got ${show(path)}`);
  }
  const strings = (key: "args" | "env"): string[] | undefined => {
    const list = h[key];
    if (list === undefined) return undefined;
    if (!Array.isArray(list) || !list.every((s) => typeof s === "string")) {
      throw new TypeError(`${where}: ${key} must be an array of strings, got ${show(list)}`);
    }
    return [...(list as string[])];
  };
  const args = strings("args");
  const env = strings("env");
  const badEnv = env?.find((entry) => !/^[^=]+=/.test(entry));
  if (badEnv !== undefined) throw new TypeError(`${where}: env entries must look like KEY=value, got ${show(badEnv)}`);
  const timeout = h["timeout"];
  if (timeout !== undefined && (typeof timeout !== "number" || !Number.isInteger(timeout) || timeout < 1)) {
    throw new TypeError(`${where}: timeout must be a whole number of seconds >= 1 (the OCI runtime-spec minimum), got ${show(timeout)}`);
  }
  const copy: PrestartHook = { priority: h["priority"], path };
  if (args) copy.args = args;
  if (env) copy.env = env;
  if (timeout !== undefined) copy.timeout = timeout as number;
  return copy;
}

/** Checks a plugin's preStart result: nothing, or an array of valid hooks. */
export function checkPrestartList(result: unknown): PrestartHook[] {
  if (result === undefined) return [];
  if (!Array.isArray(result)) throw new TypeError(`preStart must return an array of prestart hooks or nothing, got ${show(result)}`);
  return result.map((hook, i) => checkPrestartHook(hook, `prestart hook #${i}`));
}

function sameHook(a: PrestartHook, b: PrestartHook): boolean {
  return (
    a.priority === b.priority &&
    a.path === b.path &&
    a.timeout === b.timeout &&
    JSON.stringify(a.args ?? []) === JSON.stringify(b.args ?? []) &&
    JSON.stringify(a.env ?? []) === JSON.stringify(b.env ?? [])
  );
}

/**
 * One ordered list: priority descending; at equal priority the host's own hooks, then plugins in plugin
 * order, each plugin's hooks in the order it returned them. An exact duplicate of an earlier hook is dropped.
 */
export function mergePrestartHooks(builtin: readonly PrestartHook[], fromPlugins: readonly PrestartHook[]): PrestartHook[] {
  const all = [...builtin, ...fromPlugins];
  const unique = all.filter((hook, i) => all.findIndex((other) => sameHook(other, hook)) === i);
  return unique
    .map((hook, index) => ({ hook, index }))
    .sort((x, y) => y.hook.priority - x.hook.priority || x.index - y.index)
    .map(({ hook }) => hook);
}
