/**
 * The built-in `serve` command's action: starts the daemon with the settings its invocation's options give, and
 * runs it until SIGTERM or SIGINT (watched by the caller since minid started, so a signal that came while the
 * plugins loaded stops the daemon as soon as it has started).
 */
import type { CliCommandSpec, ShutdownSignals } from "hookplugins";
import { serveSettings } from "./cli.js";
import type { MinidHost } from "./context.js";
import { startDaemon } from "./daemon.js";

/** What the serve action needs from the run of minid. */
export interface ServeContext {
  /** The host with every plugin loaded. */
  host: MinidHost;
  /** Closes the host (once, however often called). */
  closeHost: () => Promise<void>;
  /** The shutdown signals, watched since minid started. */
  signals: ShutdownSignals;
  /** Told the socket path before the daemon starts (a force quit removes it). */
  onSocket: (socketPath: string) => void;
  /** Standard error. */
  err: (text: string) => void;
}

/** The serve action: runs the daemon until SIGTERM/SIGINT; resolves with the exit status (0 stopped, 1 failed). */
export function serveAction(context: ServeContext): CliCommandSpec["action"] {
  const { host, closeHost, signals, onSocket, err } = context;
  return async (invocation) => {
    const settings = serveSettings(invocation.options);
    onSocket(settings.socketPath);
    let daemon;
    try {
      daemon = await startDaemon({ host, socketPath: settings.socketPath, stateDir: settings.stateDir, dryRun: settings.dryRun, runc: settings.runc });
    } catch (error) {
      err(`minid: cannot start: ${(error as Error).message}\n`);
      await closeHost();
      return 1;
    }
    err(`minid: serving the Docker Engine API on unix://${daemon.socketPath} (runtime: ${daemon.context.runtime.name})\n`);
    const signal = await signals.first;
    err(`minid: ${signal} received, shutting down\n`);
    try {
      await daemon.stop();
    } catch (error) {
      err(`minid: shutdown finished with errors: ${(error as Error).message}\n`);
      await closeHost();
      return 1;
    }
    await closeHost();
    err("minid: stopped\n");
    return 0;
  };
}
