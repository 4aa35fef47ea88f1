/**
 * minid's shutdown policy on top of hookplugins' listenForShutdown: the handlers go in before the daemon starts, so
 * no signal can ever meet Node's default action (death without stop hooks). The first signal asks for a clean stop;
 * later ones during shutdown are reported and ignored, and the `forceAfter`-th signal in all force-quits.
 */
import { listenForShutdown, type ShutdownSignal, type ShutdownSignals } from "hookplugins";

/** How to watch the shutdown signals. */
export interface ShutdownSignalOptions {
  /** Where notes about repeated signals go. */
  log: (line: string) => void;
  /** Called on the `forceAfter`-th signal; it must end the process (e.g. `process.exit(128 + n)`). */
  forceQuit: (signal: ShutdownSignal) => void;
  /** Which signal, counting the first, force-quits (default 3, as dockerd). */
  forceAfter?: number;
}

/** Installs SIGINT and SIGTERM handlers now; they stay until `dispose()`. */
export function watchShutdownSignals(options: ShutdownSignalOptions): ShutdownSignals {
  const forceAfter = options.forceAfter ?? 3;
  return listenForShutdown({
    onRepeat(signal, received) {
      if (received >= forceAfter) return options.forceQuit(signal);
      const left = forceAfter - received;
      options.log(`minid: ${signal} received again while shutting down; still stopping cleanly (${left} more to force quit)`);
    },
  });
}
