/**
 * The project's CliPlugins' commands in the `hookplugins` CLI: the built-in commands as plain data, the plugins'
 * updateCommands over them, and the commands the plugins added mapped onto commander. Built-in commands are locked:
 * they run without loading any plugin (so a broken plugin never stops `plugin disable`), and a plugin that removes,
 * wraps, hides or changes one is refused with CliCommandLockedError; a plugin's command named like a built-in is
 * refused with CliCommandConflictError naming both.
 */
import type { Command } from "commander";
import type { CliCommandSpec, CliInvocation } from "../plugins/interfaces.js";

/** The commands of the program as plain data ("plugin list" for a subcommand), locked; their actions are never called. */
export function builtinSpecs(program: Command): CliCommandSpec[] {
  const specs: CliCommandSpec[] = [];
  const walk = (command: Command, prefix: string): void => {
    for (const sub of command.commands) {
      const name = `${prefix}${sub.name()}`;
      specs.push({
        name,
        description: sub.description(),
        arguments: sub.registeredArguments.map((a) => ({ name: a.name(), required: a.required, variadic: a.variadic })),
        options: sub.options.map((o) => ({ flags: o.flags, description: o.description })),
        action: () => 1,
        locked: true,
      });
      walk(sub, `${name} `);
    }
  };
  walk(program, "");
  return specs;
}

/** The commander argument syntax of an argument spec. */
function argumentSyntax(a: NonNullable<CliCommandSpec["arguments"]>[number]): string {
  const inner = `${a.name}${a.variadic ? "..." : ""}`;
  return a.required ? `<${inner}>` : `[${inner}]`;
}

/**
 * Adds `spec` (a plugin's command) to `program`, under the parents its name's words give (made when missing);
 * `exit` receives the action's exit status.
 */
export function addPluginCommand(program: Command, spec: CliCommandSpec, exit: (code: number) => void): void {
  const words = spec.name.split(/\s+/).filter(Boolean);
  let parent = program;
  for (const word of words.slice(0, -1)) {
    parent = parent.commands.find((c) => c.name() === word) ?? parent.command(word).description(`commands of plugin ${spec.plugin ?? ""}`.trim());
  }
  const command = parent.command(words.at(-1)!, { hidden: spec.hidden === true }).description(`${spec.description} (plugin ${spec.plugin})`);
  const args = spec.arguments ?? [];
  for (const a of args) command.argument(argumentSyntax(a), a.description ?? "");
  for (const o of spec.options ?? []) command.option(o.flags, o.description, o.defaultValue);
  command.action(async (...received: unknown[]) => {
    const positional = received.slice(0, args.length).flatMap((v) => (Array.isArray(v) ? (v as string[]) : v === undefined ? [] : [String(v)]));
    const invocation: CliInvocation = {
      args: positional,
      options: command.opts(),
      out: (line) => void process.stdout.write(`${line}\n`),
    };
    const code = await spec.action(invocation);
    exit(typeof code === "number" ? code : 0);
  });
}

/** The global options that take a value: their value is not the command word. */
const valued = new Set(["-C", "--project", "--state-file"]);

/**
 * Whether a run needs the plugins' commands: when it asks for the program's help, or names a command that is not a
 * built-in (built-in commands run without loading any plugin).
 */
export function wantsPluginCommands(argv: readonly string[], builtins: readonly string[]): boolean {
  const words = argv.slice(2);
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (valued.has(word)) {
      i++;
      continue;
    }
    if (word.startsWith("-")) continue;
    return word === "help" || !builtins.includes(word);
  }
  return true; // no command word: the program's own help
}

/** The global options as they stand before commander parsed them. */
function globalOption(argv: readonly string[], names: readonly string[]): string | undefined {
  for (let i = 2; i < argv.length - 1; i++) if (names.includes(argv[i]!)) return argv[i + 1];
  const inline = argv.find((a) => names.some((n) => n.startsWith("--") && a.startsWith(`${n}=`)));
  return inline?.slice(inline.indexOf("=") + 1);
}

/** The project's CliPlugins, loaded, and the commands they added to `builtins`; close() stops their external plugins. */
export interface LoadedPluginCommands {
  /** The commands the plugins added (plugin set), in order. */
  readonly commands: readonly CliCommandSpec[];
  /** Stops the host and the external plugins. */
  close(): Promise<void>;
}

/**
 * Loads the project's plugins (hookplugins.json, found from -C or the working directory; none: no commands) with
 * the one project loader, and runs the enabled CliPlugins' updateCommands over `builtins`. A plugin that cannot be
 * loaded is left out (`plugin list` and `explain` show why); a conflict rejects with CliCommandConflictError.
 */
export async function loadPluginCommands(argv: readonly string[], builtins: CliCommandSpec[]): Promise<LoadedPluginCommands | undefined> {
  const { resolve } = await import("node:path");
  const { locateProjectRoot, projectPath, readProject } = await import("../inclusion/projectManifest.js");
  const cwd = process.cwd();
  let root: string | undefined;
  try {
    root = locateProjectRoot(resolve(cwd, globalOption(argv, ["-C", "--project"]) ?? "."));
  } catch {
    return undefined; // a -C that is not a folder: the command reports it
  }
  if (root === undefined) return undefined;
  const [{ loadProjectPlugins }, { defaultRegistry }, { createHost }, { readPluginState }] = await Promise.all([
    import("../inclusion/projectPlugins.js"),
    import("../registry/defaultRegistry.js"),
    import("../dispatch/host.js"),
    import("../state/pluginState.js"),
  ]);
  const plugins = await loadProjectPlugins(root, { onLoadError: "report", external: { retryTotalMs: 1000, retryInitialDelayMs: 100, activationTimeoutMs: 3000 } });
  if (defaultRegistry.list("CliPlugin").length === 0) {
    await plugins.close();
    return undefined;
  }
  const stateFlag = globalOption(argv, ["--state-file"]);
  const stateFile = stateFlag !== undefined ? resolve(cwd, stateFlag) : projectPath({ root }, (await readProject(root)).manifest.stateFile);
  const host = createHost({ disabled: (await readPluginState(stateFile)).disabled });
  const close = async (): Promise<void> => {
    await host.close();
    await plugins.close();
  };
  try {
    const commands = (await host.cli.updateCommands(builtins)).filter((spec) => spec.plugin !== undefined);
    return { commands, close };
  } catch (error) {
    await close();
    throw error;
  }
}
