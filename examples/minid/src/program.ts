/**
 * minid's program: the command line split into a command, the external plugins loaded, the commands (built-ins
 * and the plugins' through CliPlugin.updateCommands) built, and the command run: `serve` (the daemon, the default),
 * `help`, or a plugin's command. Exit statuses: 0 ok, 1 failure, 2 wrong usage or a refused plugin command.
 */
import { rmSync } from "node:fs";
import { constants } from "node:os";
import { createHost, defaultRegistry, type PluginRegistry } from "hookplugins";
import { loadExternalPlugins, type ExternalPlugins } from "hookplugins/external";
import { builtinCommands, parseMinidArgs, splitArgs, usage, type SplitArgs } from "./cli.js";
import { CommandUsageError, parseCommandArgs } from "./commandLine.js";
import type { MinidHost } from "./context.js";
import { startDaemon } from "./daemon.js";
import { type CliCommandSpec } from "hookplugins";
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

/** The plugins and host a run uses. */
interface Loaded {
  host: MinidHost;
  external: ExternalPlugins;
  commands: CliCommandSpec[];
}

/** Loads the external plugins, makes the host and the command list; a refused plugin command rejects (after cleanup). */
async function load(split: SplitArgs, registry: PluginRegistry, err: (text: string) => void): Promise<Loaded> {
  // external plugins (own processes) join the compiled-in ones in the same registry, after them at equal priority
  const external = await loadExternalPlugins(registry, split.sources);
  external.events.on("pluginLog", (e) => err(`minid: plugin ${e.plugin}: ${e.line}\n`));
  const host = createHost({ registry, external });
  try {
    return { host, external, commands: await host.cli.updateCommands(builtinCommands()) };
  } catch (error) {
    await host.close();
    throw error;
  }
}

/** Runs a plugin's command; its exit status. */
async function runPluginCommand(command: CliCommandSpec, argv: readonly string[], out: (text: string) => void): Promise<number> {
  const { args, options } = parseCommandArgs(command, argv);
  const controller = new AbortController();
  const code = await command.action({ args, options, out: (line) => out(`${line}\n`), signal: controller.signal });
  return typeof code === "number" ? code : 0;
}

/** Runs the daemon until SIGTERM/SIGINT; the exit status. */
async function serve(argv: readonly string[], split: SplitArgs, registry: PluginRegistry, err: (text: string) => void): Promise<number> {
  const args = parseMinidArgs(argv);
  const socketPath = args.socketPath;
  // Handlers first: a signal that arrives while minid starts (or the moment it reports ready) must stop it
  // cleanly, never meet Node's default action, which would skip the stop hooks and leave the socket behind.
  const signals = watchShutdownSignals({
    log: (line) => err(`${line}\n`),
    forceQuit: (signal) => {
      err(`minid: ${signal} received a third time: force quit (stop hooks skipped, containers left as they are)\n`);
      rmSync(socketPath, { force: true });
      process.exit(128 + constants.signals[signal]);
    },
  });
  let host: MinidHost | undefined;
  let daemon;
  try {
    ({ host } = await load(split, registry, err));
    daemon = await startDaemon({ host, socketPath, stateDir: args.stateDir, dryRun: args.dryRun, runc: args.runc });
  } catch (error) {
    err(`minid: cannot start: ${(error as Error).message}\n`);
    await host?.close();
    return 1;
  }
  err(`minid: serving the Docker Engine API on unix://${daemon.socketPath} (runtime: ${daemon.context.runtime.name})\n`);
  const signal = await signals.first;
  err(`minid: ${signal} received, shutting down\n`);
  try {
    await daemon.stop();
  } catch (error) {
    err(`minid: shutdown finished with errors: ${(error as Error).message}\n`);
    await host.close();
    return 1;
  }
  await host.close();
  err("minid: stopped\n");
  return 0;
}

/** Runs minid with `argv` (without node and script); resolves with the exit status. */
export async function runMinid(argv: readonly string[], options: MinidProgramOptions = {}): Promise<number> {
  const registry = options.registry ?? defaultRegistry;
  const out = options.out ?? ((text: string) => void process.stdout.write(text));
  const err = options.err ?? ((text: string) => void process.stderr.write(text));
  const split = splitArgs(argv);
  if ((split.word === undefined || split.word === "serve") && !split.help) {
    try {
      parseMinidArgs(split.rest);
    } catch (error) {
      err(`minid: ${(error as Error).message}\n${usage()}\n`);
      return 2;
    }
    return serve(split.rest, split, registry, err);
  }
  let loaded: Loaded;
  try {
    loaded = await load(split, registry, err);
  } catch (error) {
    err(`minid: ${(error as Error).message}\n`);
    return 2;
  }
  try {
    const { commands } = loaded;
    if (split.help || split.word === "help") {
      out(`${usage(commands)}\n`);
      return 0;
    }
    const command = commands.find((c) => c.name === split.word && c.plugin !== undefined);
    if (!command) {
      err(`minid: unknown command "${split.word}"\n${usage(commands)}\n`);
      return 2;
    }
    return await runPluginCommand(command, split.commandArgs, out);
  } catch (error) {
    if (error instanceof CommandUsageError) {
      err(`minid: ${error.message}\n${usage(loaded.commands)}\n`);
      return 2;
    }
    err(`minid: ${split.word}: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await loaded.host.close();
  }
}
