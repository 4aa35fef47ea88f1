/**
 * minid's program: the command line split into a command, the external plugins loaded, the commands (built-ins
 * and the plugins' through CliPlugin.updateCommands) built, and the final list's command run with the command line
 * parsed against its spec: `serve` (the daemon, the default), `help`, or a plugin's command; a plugin's wrapper of
 * a built-in runs in its place. Exit statuses: 0 ok, 1 failure, 2 wrong usage or a refused plugin command.
 */
import { rmSync } from "node:fs";
import { constants } from "node:os";
import { createHost, defaultRegistry, type CliCommandSpec, type PluginRegistry, type ShutdownSignal, type ShutdownSignals } from "hookplugins";
import { loadExternalPlugins, type ExternalPlugins } from "hookplugins/external";
import { builtinCommands, serveCommandOf } from "./builtinCommands.js";
import { splitArgs, usage, type SplitArgs } from "./cli.js";
import { CommandUsageError, parseCommandArgs, valuedFlags } from "./commandLine.js";
import { serveAction } from "./serveCommand.js";
import { watchShutdownSignals } from "./shutdownSignals.js";

/** Where a run of the program reads its plugins from and writes to. */
export interface MinidProgramOptions {
  /** The registry of the compiled-in plugins (default: hookplugins' default registry). */
  registry?: PluginRegistry;
  /** Standard output. */
  out?: (text: string) => void;
  /** Standard error. */
  err?: (text: string) => void;
}

/** A command's exit status from what its action returned. */
function statusOf(code: number | void): number {
  return typeof code === "number" ? code : 0;
}

/** Runs the final list's command `name` with the command line parsed against its spec; its exit status. */
async function runCommand(name: string, split: SplitArgs, commands: readonly CliCommandSpec[], out: (text: string) => void, err: (text: string) => void): Promise<number> {
  const print = (line: string): void => out(`${line}\n`);
  const showHelp = async (): Promise<number> => {
    const help = commands.find((c) => c.name === "help");
    if (help) return statusOf(await help.action({ args: [], options: {}, out: print }));
    print(usage(commands)); // a plugin left help out: --help still prints the usage
    return 0;
  };
  if (split.help) return showHelp();
  const command = commands.find((c) => c.name === name);
  if (!command) {
    err(`minid: unknown command "${name}"\n${usage(commands)}\n`);
    return 2;
  }
  // serve also parses the --plugin-*-dir options (its own), so that a missing folder is a usage error
  const argv = name === "serve" ? split.rest : split.commandArgs;
  // -h/--help after any command word prints the help, unless the command takes --help itself
  const ownHelp = (command.options ?? []).some((o) => /(^|[ ,|])--help\b/.test(o.flags));
  if ((!ownHelp || name === "serve") && argv.some((a) => a === "-h" || a === "--help")) return showHelp();
  try {
    const { args, options } = parseCommandArgs(command, argv);
    // no signal: by the time a command runs, Ctrl-C has Node's default action again and ends minid
    return statusOf(await command.action({ args, options, out: print }));
  } catch (error) {
    if (error instanceof CommandUsageError) {
      err(`minid: ${error.message}\n${usage(commands)}\n`);
      return 2;
    }
    err(`minid: ${name}: ${(error as Error).message}\n`);
    return 1;
  }
}

/** With the external plugins loaded: builds the final command list and runs the command; the exit status. */
async function runWithPlugins(argv: readonly string[], external: ExternalPlugins, registry: PluginRegistry, signals: ShutdownSignals, io: RunIo): Promise<number> {
  const { out, err } = io;
  external.events.on("pluginLog", (e) => err(`minid: plugin ${e.plugin}: ${e.line}\n`));
  const host = createHost({ registry, external });
  let closing: Promise<void> | undefined;
  const closeHost = (): Promise<void> => (closing ??= host.close());
  try {
    let commands: CliCommandSpec[] = [];
    let serve: CliCommandSpec;
    try {
      const serveBuiltin = serveAction({ host, closeHost, signals, onSocket: io.onSocket, err });
      commands = await host.cli.updateCommands(builtinCommands({ serve: serveBuiltin, help: ({ out: print }) => print(usage(commands)) }));
      serve = serveCommandOf(commands, registry.list("CliPlugin").map((p) => p.name));
    } catch (error) {
      err(`minid: ${(error as Error).message}\n`);
      return 2;
    }
    // split again with the final serve's options, so that the value of a plugin's flag is not the command word
    const split = splitArgs(argv, valuedFlags(serve.options ?? []));
    const name = split.help ? "help" : (split.word ?? "serve");
    if (name !== "serve") {
      // not the daemon: Node's default action for signals from here on, and a signal during loading ends the run
      signals.dispose();
      const signal = io.received();
      if (signal !== undefined) {
        err(`minid: ${signal} received, stopped\n`);
        return 128 + constants.signals[signal];
      }
    }
    return await runCommand(name, split, commands, out, err);
  } finally {
    await closeHost();
  }
}

/** Where a run writes, and what it learns from its signal handlers. */
interface RunIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Tells the force quit which socket to remove. */
  onSocket: (socketPath: string) => void;
  /** The first shutdown signal received so far, if any. */
  received: () => ShutdownSignal | undefined;
}

/** Runs minid with `argv` (without node and script); resolves with the exit status. */
export async function runMinid(argv: readonly string[], options: MinidProgramOptions = {}): Promise<number> {
  const registry = options.registry ?? defaultRegistry;
  const out = options.out ?? ((text: string) => void process.stdout.write(text));
  const err = options.err ?? ((text: string) => void process.stderr.write(text));
  // the plugin folders; the command word is only known for sure from the final serve options (after loading)
  const early = splitArgs(argv);
  const daemonAsked = !early.help && (early.word === undefined || early.word === "serve");
  const state: { socketPath?: string; received?: ShutdownSignal } = {};
  // Handlers first: a signal that arrives while minid starts (or the moment it reports ready) must stop it
  // cleanly, never meet Node's default action, which would skip the stop hooks and leave the socket behind.
  const signals = watchShutdownSignals({
    log: (line) => err(`${line}\n`),
    forceQuit: (signal) => {
      err(`minid: ${signal} received a third time: force quit (stop hooks skipped, containers left as they are)\n`);
      if (state.socketPath !== undefined) rmSync(state.socketPath, { force: true });
      process.exit(128 + constants.signals[signal]);
    },
  });
  void signals.first.then((signal) => (state.received = signal));
  try {
    let external: ExternalPlugins;
    try {
      // external plugins (own processes) join the compiled-in ones in the same registry, after them at equal priority
      external = await loadExternalPlugins(registry, early.sources);
    } catch (error) {
      err(daemonAsked ? `minid: cannot start: ${(error as Error).message}\n` : `minid: ${(error as Error).message}\n`);
      return daemonAsked ? 1 : 2;
    }
    const io: RunIo = { out, err, onSocket: (socketPath) => (state.socketPath = socketPath), received: () => state.received };
    return await runWithPlugins(argv, external, registry, signals, io);
  } finally {
    signals.dispose();
  }
}
