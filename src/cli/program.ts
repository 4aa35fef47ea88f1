/**
 * The hookplugins command line: commander wiring, exit statuses (0 ok, 1 failure, 2 wrong usage), errors on stderr.
 */
import { Command, CommanderError, Option } from "commander";
import { libraryVersion } from "../build/libraryInfo.js";
import { addDockerPluginCommand } from "./commands/dockerPlugin.js";
import { explainCommand } from "./commands/explain.js";
import { compileExecutableCommand, serveCommand } from "./commands/external.js";
import { moduleCommand } from "./commands/module.js";
import {
  compileCommand,
  inspectCommand,
  installCommand,
  listCommand,
  setEnabledCommand,
  uninstallCommand,
} from "./commands/plugin.js";
import { createContext, type CommandContext, type GlobalOptions } from "./context.js";
import { exitFailure, exitUsage, printError, UsageError } from "./output.js";

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function buildProgram(run: (command: Command, action: (ctx: CommandContext) => Promise<void>) => Promise<void>): Command {
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
      run(command, (ctx) => (options.executable ? compileExecutableCommand(ctx, dir, options.out) : compileCommand(ctx, dir, options.out))),
    );

  program
    .command("serve")
    .description("serve one plugin in this process over Docker's v1 plugin protocol, until SIGTERM or Ctrl-C")
    .argument("<plugin>", "plugin folder, package, or file made by `plugin compile`")
    .option("--socket <path>", "UNIX socket to listen on (made mode 0600, removed on exit)")
    .option("--port <n>", "TCP port on 127.0.0.1 to listen on instead")
    .action((target: string, options: { socket?: string; port?: string }, command: Command) => run(command, (ctx) => serveCommand(ctx, target, options)));

  program
    .command("explain")
    .description("show the effective order at each hook point: priority, plugin, enabled or disabled, source")
    .argument("[hook]", 'one hook point, e.g. "ContainerPlugin.preCreate" or "preCreate"')
    .action((hook: string | undefined, _options, command: Command) => run(command, (ctx) => explainCommand(ctx, hook)));
  addDockerPluginCommand(program, run);
  return program;
}

/** Runs the CLI on `argv` (as process.argv); resolves with the exit status. */
export async function runCli(argv: readonly string[]): Promise<number> {
  let json = argv.includes("--json");
  const run = async (command: Command, action: (ctx: CommandContext) => Promise<void>): Promise<void> => {
    const options = command.optsWithGlobals<GlobalOptions>();
    json = options.json === true;
    await action(createContext(options));
  };
  const program = buildProgram(run);
  for (const command of [program, ...program.commands, ...program.commands.flatMap((c) => c.commands)]) {
    command.exitOverride();
    command.configureOutput({ outputError: (text, write) => write(json ? `${JSON.stringify({ error: { kind: "UsageError", message: text.trim() } })}\n` : text) });
  }
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.exitCode === 0) return 0;
      return exitUsage;
    }
    printError(error, json);
    return error instanceof UsageError ? exitUsage : exitFailure;
  }
}
