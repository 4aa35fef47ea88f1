/**
 * CliPlugin.updateCommands results: the checks of a command list, who added each command, and the conflicts a
 * plugin's additions make with the commands it was given (built-ins or earlier plugins').
 */
import { CliCommandConflictError } from "../errors.js";
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

/** Who owns each command of a list, by name (undefined: a built-in): taken before a plugin may change the list in place. */
export type CommandOwners = ReadonlyMap<string, string | undefined>;

/** The owners of `commands`' names. */
export function ownersOf(commands: readonly CliCommandSpec[]): CommandOwners {
  return new Map(commands.map((spec) => [spec.name, spec.plugin]));
}

/**
 * Checks the list `plugin` returned, given the owners of the list it was given: every spec valid, no command name
 * twice and no option flag twice in one command (a CliCommandConflictError naming both sides), and `plugin` set on
 * the commands it added. A command it returns under a name it was given (wrapped) keeps the owner it had.
 */
export function checkCommands(result: unknown, before: CommandOwners, plugin: string, hook: HookName): CliCommandSpec[] {
  if (!Array.isArray(result)) throw new TypeError(`returned ${result === null ? "null" : typeof result}; return the array of command specs or nothing`);
  const seen = new Set<string>();
  return result.map((raw: unknown, i) => {
    const spec = checkSpec(raw, i);
    const owner = before.has(spec.name) ? before.get(spec.name) : plugin;
    // the command that was there before is the other side; else the plugin added the name twice itself
    if (seen.has(spec.name)) throw new CliCommandConflictError(plugin, hook, spec.name, owner);
    seen.add(spec.name);
    const flag = spec.options === undefined ? undefined : repeatedFlag(spec.options);
    if (flag !== undefined) throw new CliCommandConflictError(plugin, hook, spec.name, owner, flag);
    if (spec.plugin === owner) return spec;
    const checked: CliCommandSpec = { ...spec, plugin: owner };
    if (owner === undefined) delete (checked as { plugin?: string }).plugin;
    return checked;
  });
}
