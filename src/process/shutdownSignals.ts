/**
 * Shutdown signals for a long-running process (a host daemon, a served plugin, a CLI command): listening from its
 * first line, so a SIGTERM or SIGINT that arrives while it starts (or the moment it reports ready) stops it cleanly
 * instead of meeting Node's default action, and repeats during shutdown do not kill it half-way.
 */

/** The shutdown signals a long-running process listens to. */
export type ShutdownSignal = "SIGTERM" | "SIGINT";

/** Options of listenForShutdown. */
export interface ShutdownOptions {
  /** Called for each signal after the first, with how many were received in all (default: ignored). */
  onRepeat?: (signal: ShutdownSignal, received: number) => void;
}

/** A listener for SIGTERM and SIGINT that stays in place until disposed. */
export interface ShutdownSignals {
  /** Settles with the first signal received. */
  readonly first: Promise<ShutdownSignal>;
  /** Stops listening (call when the process has shut down). */
  dispose(): void;
}

const shutdownSignalNames: readonly ShutdownSignal[] = ["SIGTERM", "SIGINT"];

/** Starts listening to SIGTERM and SIGINT now; the first settles `first`, later ones go to `onRepeat` until `dispose()`. */
export function listenForShutdown(options: ShutdownOptions = {}): ShutdownSignals {
  let resolveFirst!: (signal: ShutdownSignal) => void;
  const first = new Promise<ShutdownSignal>((resolve) => (resolveFirst = resolve));
  let received = 0;
  const listeners = shutdownSignalNames.map((signal) => {
    const listener = (): void => {
      received += 1;
      if (received === 1) resolveFirst(signal);
      else options.onRepeat?.(signal, received);
    };
    process.on(signal, listener);
    return [signal, listener] as const;
  });
  return {
    first,
    dispose() {
      for (const [signal, listener] of listeners) process.off(signal, listener);
    },
  };
}
