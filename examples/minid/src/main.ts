/**
 * minid entry point: imports the generated plugin module (build-time plugin inclusion), creates the
 * hookplugins host, starts the daemon and stops it cleanly on SIGTERM or SIGINT.
 */
import "./plugins.generated.js";
import { rmSync } from "node:fs";
import { constants } from "node:os";
import { createHost, defaultRegistry } from "hookplugins";
import { loadExternalPlugins } from "hookplugins/external";
import { parseMinidArgs, usage } from "./cli.js";
import type { MinidHost } from "./context.js";
import { startDaemon } from "./daemon.js";
import { watchShutdownSignals } from "./shutdownSignals.js";

/** Runs the daemon until SIGTERM/SIGINT; resolves with the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let args;
  try {
    args = parseMinidArgs(argv);
  } catch (err) {
    process.stderr.write(`minid: ${(err as Error).message}\n${usage}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const socketPath = args.socketPath;
  // Handlers first: a signal that arrives while minid starts (or the moment it reports ready) must stop it
  // cleanly, never meet Node's default action, which would skip the stop hooks and leave the socket behind.
  const signals = watchShutdownSignals({
    log: (line) => process.stderr.write(`${line}\n`),
    forceQuit: (signal) => {
      process.stderr.write(`minid: ${signal} received a third time: force quit (stop hooks skipped, containers left as they are)\n`);
      rmSync(socketPath, { force: true });
      process.exit(128 + constants.signals[signal]);
    },
  });
  let host: MinidHost | undefined;
  let daemon;
  try {
    // external plugins (own processes) join the compiled-in ones in the same registry, after them at equal priority
    const external = await loadExternalPlugins(defaultRegistry, {
      socketDirs: args.pluginSocketDirs,
      specDirs: args.pluginSpecDirs,
      executableDirs: args.pluginExecDirs,
    });
    external.events.on("pluginLog", (e) => process.stderr.write(`minid: plugin ${e.plugin}: ${e.line}\n`));
    host = createHost({ external });
    daemon = await startDaemon({ host, socketPath, stateDir: args.stateDir, dryRun: args.dryRun, runc: args.runc });
  } catch (err) {
    process.stderr.write(`minid: cannot start: ${(err as Error).message}\n`);
    await host?.close();
    return 1;
  }
  process.stderr.write(`minid: serving the Docker Engine API on unix://${daemon.socketPath} (runtime: ${daemon.context.runtime.name})\n`);
  const signal = await signals.first;
  process.stderr.write(`minid: ${signal} received, shutting down\n`);
  try {
    await daemon.stop();
  } catch (err) {
    process.stderr.write(`minid: shutdown finished with errors: ${(err as Error).message}\n`);
    await host.close();
    return 1;
  }
  await host.close();
  process.stderr.write("minid: stopped\n");
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`minid: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
