/**
 * The hookplugins command line: commander wiring, exit statuses (0 ok, 1 failure, 2 wrong usage), errors on stderr.
 */
import { Command, CommanderError, Option } from "commander";
import { libraryVersion } from "../inclusion/libraryInfo.js";
import { addCriProxyCommand } from "./commands/criProxy.js";
import { addDockerPluginCommand } from "./commands/dockerPlugin.js";
import { addDockerProxyCommand } from "./commands/dockerProxy.js";
import { explainCommand } from "./commands/explain.js";
import { compileExecutableCommand, serveCommand, type ServeFlags } from "./commands/external.js";
import { initCommand } from "./commands/init.js";
import { moduleCommand } from "./commands/module.js";
import { addRuntimeCommand } from "./commands/runtime.js";
import {
  compileCommand,
  inspectCommand,
  installCommand,
  listCommand,
  setEnabledCommand,
  uninstallCommand,
} from "./commands/plugin.js";
import { createContext, type CommandContext, type GlobalOptions, type ProjectNeed } from "./context.js";
import { exitFailure, exitUsage, formatError, printError, UsageError } from "./output.js";
import { addPluginCommand, builtinSpecs, loadPluginCommands, wantsPluginCommands, type LoadedPluginCommands } from "./pluginCommands.js";

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** A command's full name, e.g. "hookplugins plugin inspect". */
function fullName(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

/** Every command of the program, the program included. */
function allCommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap(allCommands)];
}

type Runner = (command: Command, action: (ctx: CommandContext) => Promise<void>, need?: ProjectNeed) => Promise<void>;

function buildProgram(run: Runner): Command {
  const program = new Command("hookplugins")
    .description("Choose the plugins compiled into a hookplugins host, and manage them.")
    .version(libraryVersion(), "-V, --version")
    .option("-C, --project <dir>", "host project folder (default: the nearest folder at or above the working directory with hookplugins.json)")
    .option("--state-file <path>", "plugin state file (default: stateFile of hookplugins.json)")
    .option("--json", "print machine-readable JSON")
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .showSuggestionAfterError();

  program
    .command("init")
    .description("create hookplugins.json (no plugins) and an empty generated module (.ts in a TypeScript project, else .js/.mjs); never overwrites")
    .option("--generated <path>", "the generated module's path (default: src/plugins.generated.ts, .js or .mjs by the project's language)")
    .option("--no-generated", "no generated module (the host uses the esbuild plugin's hookplugins:plugins only)")
    .action((options: { generated?: string | false }, command: Command) => run(command, (ctx) => initCommand(ctx, options), "here"));

  program
    .command("module")
    .description("edit the build-time plugin list (hookplugins.json) and rewrite the generated module; with no option, just rewrite it")
    .option("--add-plugin <specifier>", "add a plugin (folder, compiled file or package), after checking it; repeatable", collect, [])
    .option("--remove-plugin <specifier>", "remove a plugin; repeatable", collect, [])
    .option("--list", "list the included plugins in inclusion order")
    .option("--clean", "remove every plugin")
    .action((options, command: Command) => run(command, (ctx) => moduleCommand(ctx, options)));

  const plugin = program.command("plugin").description("list, inspect, enable, disable, install, uninstall and compile plugins");
  plugin
    .command("list")
    .description("list installed plugins (ENABLED  NAME), sorted by name")
    .action((_options, command: Command) => run(command, listCommand));
  plugin
    .command("inspect")
    .description("show a plugin's manifest, interfaces, hook methods and priorities")
    .argument("<name|path>", "an installed plugin's name, or a plugin folder, compiled file or package")
    .action((target: string, _options, command: Command) => run(command, (ctx) => inspectCommand(ctx, target)));
  plugin
    .command("enable")
    .description("enable plugins (recorded in the state file; hosts honor it at start, no rebuild)")
    .argument("<name...>", "installed plugin names")
    .action((names: string[], _options, command: Command) => run(command, (ctx) => setEnabledCommand(ctx, names, true)));
  plugin
    .command("disable")
    .description("disable plugins (recorded in the state file; hosts honor it at start, no rebuild)")
    .argument("<name...>", "installed plugin names")
    .action((names: string[], _options, command: Command) => run(command, (ctx) => setEnabledCommand(ctx, names, false)));
  plugin
    .command("install")
    .description("check a plugin and add it to the build manifest (a compiled file is copied into the project)")
    .argument("<specifier|file>", "plugin folder, package name, or file made by `plugin compile`")
    .action((target: string, _options, command: Command) => run(command, (ctx) => installCommand(ctx, target)));
  plugin
    .command("uninstall")
    .description("remove a plugin from the build manifest")
    .argument("<name>", "installed plugin name")
    .action((name: string, _options, command: Command) => run(command, (ctx) => uninstallCommand(ctx, name)));
  plugin
    .command("compile")
    .description("bundle a plugin folder into one self-contained JS file with its manifest embedded")
    .argument("<dir>", "plugin folder")
    .addOption(new Option("-o, --out <file>", "output file (default: ./<name>.hookplugin.js, or ./<name>.hookplugin.mjs with --executable)"))
    .option("--executable", "make an OCM-style executable that answers `capabilities` and `serve --socket <path>` (library bundled in)")
    .action((dir: string, options: { out?: string; executable?: boolean }, command: Command) =>
      run(command, (ctx) => (options.executable ? compileExecutableCommand(ctx, dir, options.out) : compileCommand(ctx, dir, options.out)), "optional"),
    );

  program
    .command("serve")
    .description("serve one plugin in this process over Docker's v1 plugin protocol, until SIGTERM or Ctrl-C")
    .argument("<plugin>", "plugin folder, package, or file made by `plugin compile`")
    .option("--socket <path>", "UNIX socket to listen on (made mode 0600, removed on exit)")
    .option("--port <n>", "TCP port to listen on instead (on 127.0.0.1 unless --host)")
    .option("--host <addr>", "address the --port listens on, e.g. 0.0.0.0 to serve other machines (then use TLS)")
    .option("--tls-cert <file>", "serve --port over TLS with this PEM certificate (its subjectAltName names the address hosts dial)")
    .option("--tls-key <file>", "the PEM private key of --tls-cert")
    .option("--tls-ca <file>", "PEM CA that signs the hosts' client certificates; hosts without one are refused")
    .option("--tls-no-client-auth", "serve TLS without requiring client certificates (any host that reaches the port can call)")
    .action((target: string, options: ServeFlags, command: Command) => run(command, (ctx) => serveCommand(ctx, target, options), "optional"));

  program
    .command("explain")
    .description("show the effective order at each hook point: priority, plugin, enabled or disabled, source")
    .argument("[hook]", 'one hook point, e.g. "ContainerPlugin.preCreate" or "preCreate"')
    .action((hook: string | undefined, _options, command: Command) => run(command, (ctx) => explainCommand(ctx, hook)));
  addDockerPluginCommand(program, run);
  addDockerProxyCommand(program, run);
  addCriProxyCommand(program, run);
  addRuntimeCommand(program, run);
  return program;
}

/** The name of every command that runs something, without "hookplugins" ("init", "plugin list", ...), in help order. */
export function commandNames(): string[] {
  const program = buildProgram(async () => undefined);
  return allCommands(program)
    .filter((command) => command.commands.length === 0)
    .map((command) => fullName(command).replace(/^hookplugins /, ""));
}

/** Runs the CLI on `argv` (as process.argv); resolves with the exit status. */
export async function runCli(argv: readonly string[]): Promise<number> {
  let json = argv.includes("--json");
  const run: Runner = async (command, action, need = "required") => {
    const options = command.optsWithGlobals<GlobalOptions>();
    json = options.json === true;
    try {
      await action(createContext(options, need));
    } catch (error) {
      if (error instanceof UsageError) error.command ??= fullName(command);
      throw error;
    }
  };
  const program = buildProgram(run);
  // the project's CliPlugins add commands when the program's help is asked for or the command is not a built-in
  let pluginExit: number | undefined;
  let loaded: LoadedPluginCommands | undefined;
  if (wantsPluginCommands(argv, program.commands.map((c) => c.name()))) {
    try {
      loaded = await loadPluginCommands(argv, builtinSpecs(program));
    } catch (error) {
      printError(error, json);
      return exitFailure;
    }
    for (const spec of loaded?.commands ?? []) addPluginCommand(program, spec, (code) => (pluginExit = code));
  }
  for (const command of allCommands(program)) {
    command.exitOverride();
    // commander's own usage errors ("error: unknown option ...") get the same prefix, and a hint to this command's --help
    const name = fullName(command);
    command.configureOutput({ outputError: (text, write) => write(formatError("UsageError", text.trim().replace(/^error: /, ""), json, name)) });
  }
  try {
    await program.parseAsync([...argv]);
    return pluginExit ?? 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.exitCode === 0) return 0;
      return exitUsage;
    }
    printError(error, json);
    return error instanceof UsageError ? exitUsage : exitFailure;
  } finally {
    await loaded?.close();
  }
}
