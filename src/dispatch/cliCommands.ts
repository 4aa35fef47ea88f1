/**
 * CliPlugin.updateCommands results: the checks of a command list, who added each command, the conflicts a plugin's
 * additions make with the commands it was given (built-ins or earlier plugins'), and the locked built-ins it may not change.
 */
import { CliCommandConflictError, CliCommandLockedError } from "../errors.js";
import type { HookName } from "../plugins/hookPoints.js";
import type { CliCommandSpec, CliOptionSpec } from "../plugins/interfaces.js";

function shown(spec: unknown): string {
  return JSON.stringify(spec, (_k, v: unknown) => (typeof v === "function" ? "[function]" : v)) ?? String(spec);
}

/** Checks one command spec's shape; throws a TypeError saying what a valid spec is. */
function checkSpec(spec: unknown, i: number): CliCommandSpec {
  const s = spec as Partial<CliCommandSpec> | null;
  const bad = (problem: string): never => {
    throw new TypeError(`command spec #${i} ${problem}; a command is { name: "status", description: "...", action: (invocation) => ..., options?, arguments?, hidden? }, got ${shown(spec)}`);
  };
  if (typeof s !== "object" || s === null || Array.isArray(s)) return bad("is not an object");
  if (typeof s.name !== "string" || s.name.trim() === "" || s.name.startsWith("-")) bad("has no valid name (a non-empty word, not starting with -)");
  if (typeof s.description !== "string") bad("has no description string");
  if (typeof s.action !== "function") bad("has no action function");
  if (s.options !== undefined && (!Array.isArray(s.options) || !s.options.every((o) => typeof o?.flags === "string" && o.flags.trim().startsWith("-") && typeof o.description === "string"))) {
    bad(`has options that are not all { flags: "-x, --name <value>", description }`);
  }
  if (s.arguments !== undefined && (!Array.isArray(s.arguments) || !s.arguments.every((a) => typeof a?.name === "string" && a.name !== ""))) {
    bad("has arguments that are not all { name, description?, required?, variadic? }");
  }
  return s as CliCommandSpec;
}

/** A flag that two of `options` declare, if any (--x and --no-x are one negatable option in commander, not a conflict). */
function repeatedFlag(options: readonly CliOptionSpec[]): string | undefined {
  const seen = new Set<string>();
  for (const option of options) {
    for (const flag of option.flags.split(/[ ,|]+/).filter((part) => part.startsWith("-"))) {
      if (seen.has(flag)) return flag;
      seen.add(flag);
    }
  }
  return undefined;
}

/** A command as it was before a plugin ran: its owner, and for a locked built-in what the plugin may not change. */
interface CommandBefore {
  /** The plugin that added it; undefined: a built-in. */
  readonly plugin: string | undefined;
  /** The locked command's action and its other fields as JSON (taken before the plugin could change them in place). */
  readonly locked?: { readonly action: CliCommandSpec["action"]; readonly hidden: boolean; readonly shape: string };
}

/** Each command of a list by name, as it was before a plugin may change the list (or its specs) in place. */
export type CommandsBefore = ReadonlyMap<string, CommandBefore>;

/** The fields of a locked command a plugin may not change, apart from its action and `hidden` (key order and absent defaults do not count). */
function shapeOf(spec: CliCommandSpec): string {
  const args = (spec.arguments ?? []).map((a) => [a.name, a.description ?? "", a.required === true, a.variadic === true]);
  const options = (spec.options ?? []).map((o) => [o.flags, o.description, o.defaultValue ?? null]);
  return JSON.stringify([spec.description, args, options]);
}

/** `commands` as they are now, for checkCommands. */
export function commandsBefore(commands: readonly CliCommandSpec[]): CommandsBefore {
  return new Map(
    commands.map((spec): [string, CommandBefore] => [
      spec.name,
      spec.locked === true ? { plugin: spec.plugin, locked: { action: spec.action, hidden: spec.hidden === true, shape: shapeOf(spec) } } : { plugin: spec.plugin },
    ]),
  );
}

/** Throws CliCommandLockedError when `plugin` removed, wrapped, hid or changed a command locked in `before`. */
function checkLocked(specs: readonly CliCommandSpec[], before: CommandsBefore, plugin: string, hook: HookName): void {
  for (const [name, { locked }] of before) {
    if (locked === undefined) continue;
    const spec = specs.find((s) => s.name === name);
    const change =
      spec === undefined ? "removed" : spec.action !== locked.action ? "wrapped" : (spec.hidden === true) !== locked.hidden ? "hidden" : shapeOf(spec) !== locked.shape ? "changed" : undefined;
    if (change !== undefined) throw new CliCommandLockedError(plugin, hook, name, change);
  }
}

/**
 * Checks the list `plugin` returned, given the list it was given (`before`): every spec valid, no command name
 * twice and no option flag twice in one command (a CliCommandConflictError naming both sides), no locked command
 * removed, wrapped, hidden or changed (CliCommandLockedError), and `plugin` set on the commands it added. A command
 * it returns under a name it was given (wrapped) keeps the owner it had, and a locked one stays locked.
 */
export function checkCommands(result: unknown, before: CommandsBefore, plugin: string, hook: HookName): CliCommandSpec[] {
  if (!Array.isArray(result)) throw new TypeError(`returned ${result === null ? "null" : typeof result}; return the array of command specs or nothing`);
  const seen = new Set<string>();
  const checked = result.map((raw: unknown, i) => {
    const spec = checkSpec(raw, i);
    const was = before.get(spec.name);
    const owner = was === undefined ? plugin : was.plugin;
    // the command that was there before is the other side; else the plugin added the name twice itself
    const locked = was?.locked !== undefined;
    if (seen.has(spec.name)) throw new CliCommandConflictError(plugin, hook, spec.name, owner, undefined, locked);
    seen.add(spec.name);
    const flag = spec.options === undefined ? undefined : repeatedFlag(spec.options);
    if (flag !== undefined) throw new CliCommandConflictError(plugin, hook, spec.name, owner, flag, locked);
    if (spec.plugin === owner && (spec.locked === true) === locked) return spec;
    const copy: { -readonly [K in keyof CliCommandSpec]: CliCommandSpec[K] } = { ...spec, plugin: owner, locked };
    if (owner === undefined) delete copy.plugin;
    if (!locked) delete copy.locked;
    return copy;
  });
  checkLocked(checked, before, plugin, hook);
  return checked;
}
