/**
 * SIGINT/SIGTERM handling for minid's whole life: the handlers go in before the daemon starts, so no signal can
 * ever meet Node's default action (death without stop hooks). The first signal asks for a clean stop; later ones
 * during shutdown are reported and ignored, and the `forceAfter`-th signal in all force-quits.
 */

/** The signals that stop minid. */
export const shutdownSignalNames = ["SIGINT", "SIGTERM"] as const;

/** One of the signals that stop minid. */
export type ShutdownSignal = (typeof shutdownSignalNames)[number];

/** How to watch the shutdown signals. */
export interface ShutdownSignalOptions {
  /** Where notes about repeated signals go. */
  log: (line: string) => void;
  /** Called on the `forceAfter`-th signal; it must end the process (e.g. `process.exit(128 + n)`). */
  forceQuit: (signal: ShutdownSignal) => void;
  /** Which signal, counting the first, force-quits (default 3, as dockerd). */
  forceAfter?: number;
}

/** The installed handlers. */
export interface ShutdownSignals {
  /** Resolves with the first SIGINT or SIGTERM received. */
  readonly first: Promise<ShutdownSignal>;
  /** Removes the handlers (once the process is about to exit). */
  dispose(): void;
}

/** Installs SIGINT and SIGTERM handlers now; they stay until `dispose()`. */
export function watchShutdownSignals(options: ShutdownSignalOptions): ShutdownSignals {
  const forceAfter = options.forceAfter ?? 3;
  let received = 0;
  let resolveFirst: (signal: ShutdownSignal) => void = () => undefined;
  const first = new Promise<ShutdownSignal>((resolve) => (resolveFirst = resolve));
  const handlers = new Map<ShutdownSignal, () => void>();
  for (const signal of shutdownSignalNames) {
    const handler = (): void => {
      received += 1;
      if (received === 1) return resolveFirst(signal);
      if (received >= forceAfter) return options.forceQuit(signal);
      const left = forceAfter - received;
      options.log(`minid: ${signal} received again while shutting down; still stopping cleanly (${left} more to force quit)`);
    };
    handlers.set(signal, handler);
    process.on(signal, handler);
  }
  return {
    first,
    dispose: () => {
      for (const [signal, handler] of handlers) process.removeListener(signal, handler);
    },
  };
}
