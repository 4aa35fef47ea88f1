/**
 * The daemon's start and stop: start in order and roll back on failure; stop in reverse order, all of them, once.
 */
import { hookSpecs } from "./hookSpecs.js";
import type { HostCore } from "./hostCore.js";
import type { Chain } from "./chain.js";
import { Run } from "./run.js";

/** Drives DaemonPlugin.preStartHook and preStopHook for one host. */
export class DaemonLifecycle {
  #stopping: Promise<void> | undefined;

  /** Creates the lifecycle; `chains` gives the current start and stop chains. */
  constructor(
    readonly core: HostCore,
    readonly chains: () => { start: Chain; stop: Chain },
  ) {}

  /** Runs preStartHook in order; on a failure, stops the plugins already started (reverse order) and rethrows. */
  async start(signal: AbortSignal | undefined): Promise<void> {
    signal?.throwIfAborted();
    const { start, stop } = this.chains();
    const run = new Run(this.core, hookSpecs.preStartHook, signal);
    const started: string[] = [];
    run.acc = started;
    try {
      await run.startWith(start.entries);
    } catch (error) {
      const rollback = stop.entries.filter((entry) => started.includes(entry.name));
      const undo = new Run(this.core, hookSpecs.preStopHook, undefined, "collect");
      await undo.startWith(rollback).catch(() => {
        // each rollback failure was already reported as a hookError event; the start's own error wins
      });
      throw error;
    }
    this.#stopping = undefined;
  }

  /** Runs every preStopHook in reverse order; rejects with an AggregateError of the failures; a second call runs nothing. */
  stop(signal: AbortSignal | undefined): Promise<void> {
    if (!this.#stopping) {
      // A stop refused before it began does not count as the daemon's stop: a later call still runs every plugin.
      if (signal?.aborted) return Promise.reject(signal.reason);
      const run = new Run(this.core, hookSpecs.preStopHook, signal, "collect");
      this.#stopping = run.startWith(this.chains().stop.entries) as Promise<void>;
    }
    return this.#stopping;
  }
}
