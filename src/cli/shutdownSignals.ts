/**
 * Shutdown signals for long-running CLI commands: listening from the command's first line, so a SIGTERM or SIGINT
 * that arrives while the command starts (or the moment it reports ready) stops it cleanly instead of meeting Node's
 * default action, and repeats during shutdown are ignored instead of killing it half-way.
 */

/** The shutdown signals a long-running command listens to. */
export type ShutdownSignal = "SIGTERM" | "SIGINT";

/** A listener for SIGTERM and SIGINT that stays in place until disposed. */
export interface ShutdownSignals {
  /** Settles with the first signal received. */
  readonly first: Promise<ShutdownSignal>;
  /** Stops listening (call when the command has shut down). */
  dispose(): void;
}

/** Starts listening to SIGTERM and SIGINT now; later signals are ignored until `dispose()`. */
export function listenForShutdown(): ShutdownSignals {
  let resolveFirst!: (signal: ShutdownSignal) => void;
  const first = new Promise<ShutdownSignal>((resolve) => (resolveFirst = resolve));
  const onTerm = (): void => resolveFirst("SIGTERM");
  const onInt = (): void => resolveFirst("SIGINT");
  process.on("SIGTERM", onTerm);
  process.on("SIGINT", onInt);
  return {
    first,
    dispose() {
      process.off("SIGTERM", onTerm);
      process.off("SIGINT", onInt);
    },
  };
}
