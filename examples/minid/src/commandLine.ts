/**
 * minid's commands as plain data (CliCommandSpec) mapped onto its CLI library, node:util's parseArgs: an option's
 * commander-style flags ("-n, --name <value>") become a parseArgs option, the arguments positionals, and the help
 * text is written from the same list, so that a plugin's command shows in `minid --help` like a built-in one.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { CliCommandSpec, CliOptionSpec } from "hookplugins";

/** A command line that does not fit a command's arguments or options (exit status 2). */
export class CommandUsageError extends Error {
  override name = "CommandUsageError";
}

/** One option of a command as parseArgs takes it, and the name its value is reported under. */
interface MappedOption {
  /** The long name without dashes ("dry-run"). */
  long: string;
  /** The parseArgs definition. */
  config: NonNullable<ParseArgsConfig["options"]>[string];
  /** The camelCase key commander would report it under ("dryRun"); "--no-x" reports "x". */
  key: string;
  /** True for "--no-x". */
  negated: boolean;
}

function camel(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** Maps commander option syntax onto a parseArgs option; throws CommandUsageError for a form it cannot read. */
export function mapOption(option: CliOptionSpec): MappedOption {
  const match = /^\s*(?:-([A-Za-z0-9]),?\s*)?--([A-Za-z0-9][\w-]*)(?:\s+[<[]([^>\]]*)[>\]])?\s*$/.exec(option.flags);
  if (!match?.[2]) throw new CommandUsageError(`option "${option.flags}" is not in the form "-n, --name <value>" or "--flag"`);
  const long = match[2];
  const takesValue = match[3] !== undefined;
  const negated = long.startsWith("no-") && !takesValue;
  return {
    long,
    key: camel(negated ? long.slice(3) : long),
    negated,
    config: {
      type: takesValue ? "string" : "boolean",
      ...(match[1] ? { short: match[1] } : {}),
      ...(takesValue && match[3]?.endsWith("...") ? { multiple: true } : {}),
    },
  };
}

/** The flags ("--socket", and "-s" when it has one) of those of `options` that take a value; a form mapOption cannot read is left out. */
export function valuedFlags(options: readonly CliOptionSpec[]): Set<string> {
  const flags = new Set<string>();
  for (const option of options) {
    let mapped: MappedOption;
    try {
      mapped = mapOption(option);
    } catch {
      continue; // parseCommandArgs reports it
    }
    if (mapped.config.type !== "string") continue;
    flags.add(`--${mapped.long}`);
    if (mapped.config.short !== undefined) flags.add(`-${mapped.config.short}`);
  }
  return flags;
}

/** Parses `argv` (after the command word) for `command`: the invocation's args and options. */
export function parseCommandArgs(command: CliCommandSpec, argv: readonly string[]): { args: string[]; options: Record<string, string | boolean | string[] | undefined> } {
  const mapped = (command.options ?? []).map(mapOption);
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: Object.fromEntries(mapped.map((m) => [m.long, m.config])), allowPositionals: true, strict: true });
  } catch (err) {
    throw new CommandUsageError(`${command.name}: ${(err as Error).message}`, { cause: err });
  }
  const options: Record<string, string | boolean | string[] | undefined> = {};
  for (const [i, m] of mapped.entries()) {
    const value = parsed.values[m.long];
    const fallback = command.options?.[i]?.defaultValue;
    if (value === undefined) options[m.key] ??= m.negated ? true : fallback;
    else options[m.key] = m.negated ? !value : (value as string | boolean | string[]);
  }
  const declared = command.arguments ?? [];
  const args = parsed.positionals;
  const required = declared.filter((a) => a.required).length;
  if (args.length < required) throw new CommandUsageError(`${command.name}: missing argument ${declared[args.length]?.name ?? ""}`.trimEnd());
  if (args.length > declared.length && !declared.at(-1)?.variadic) throw new CommandUsageError(`${command.name}: too many arguments (it takes ${declared.length})`);
  return { args, options };
}

/** How a command's arguments read in help: "<name> [more...]". */
function synopsis(command: CliCommandSpec): string {
  return [command.name, ...(command.arguments ?? []).map((a) => (a.required ? `<${a.name}${a.variadic ? "..." : ""}>` : `[${a.name}${a.variadic ? "..." : ""}]`))].join(" ");
}

/** The command list of `minid --help`: every command that is not hidden with its options, a plugin's marked with its name. */
export function commandHelp(commands: readonly CliCommandSpec[]): string {
  const shown = commands.filter((c) => c.hidden !== true);
  const width = Math.max(...shown.map((c) => synopsis(c).length), 0) + 2;
  const lines = ["commands:"];
  for (const command of shown) {
    lines.push(`  ${synopsis(command).padEnd(width)}${command.description}${command.plugin === undefined ? "" : ` (plugin ${command.plugin})`}`);
    const options = command.options ?? [];
    const flagWidth = Math.max(...options.map((o) => o.flags.length), 0) + 2;
    for (const option of options) lines.push(`      ${option.flags.padEnd(flagWidth)}${option.description}`);
  }
  return lines.join("\n");
}
