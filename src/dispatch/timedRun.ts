/**
 * A run's clock readings and the hookEnd/hookError events of its plugin calls.
 *
 * The clock is read as rarely as the guarantees allow: a reading that ended one call is also the start of the next
 * call when nothing ran in between (`fresh`). While nobody listens to hookStart, finished calls' events wait for
 * the end of the run's synchronous stretch (see `report`), so no listener runs between two plugin calls.
 */
import type { PluginHookError } from "../errors.js";
import type { ChainEntry } from "./chainEntry.js";
import type { HookSpec } from "./hookSpec.js";
import type { HookEndEvent, HookErrorEvent, HostCore } from "./hostCore.js";

/** The timing and event part of a run (Run builds on it). */
export abstract class TimedRun {
  /** Whether plugin calls are timed for the host's events: a hookStart/End/Error listener existed when the call began. */
  readonly timed: boolean;
  /** When the plugin called last started (read only for a timed run). */
  protected startedAt = 0;
  /** The last clock reading. */
  protected clock = 0;
  /** Whether no plugin ran since the last reading (then it is also the next plugin's start). */
  protected fresh = false;
  // hookEnd/hookError events of calls that finished in this synchronous stretch: the first `waiting` of `events`,
  // in call order; the array is kept for the run's next stretch
  protected events: (HookEndEvent | HookErrorEvent)[] | undefined = undefined;
  protected waiting = 0;

  /** Starts the timing of a run of `spec` for `core`. */
  constructor(
    readonly core: HostCore,
    readonly spec: HookSpec,
  ) {
    this.timed = core.listening;
  }

  /**
   * Reports a finished call (hookEnd, or hookError with `error`). While nobody listens to hookStart, the event waits
   * for the end of this synchronous stretch of the run (flush: when the run awaits a plugin's promise, and when it
   * is over), so that no listener runs between two plugin calls: the reading that ended this call is then also the
   * next call's start, and no listener's time counts in a plugin's duration or time limit. With a hookStart
   * listener the events go out at once, around each call, in order.
   */
  protected report(entry: ChainEntry, error: PluginHookError | undefined, durationMs: number): void {
    const hook = this.spec.name;
    const event: HookEndEvent | HookErrorEvent =
      error === undefined
        ? { plugin: entry.name, hook, durationMs }
        : { plugin: entry.name, hook, error, failPolicy: entry.failOpen ? "fail-open" : "fail-closed", durationMs };
    if (!this.core.onStart) {
      (this.events ??= [])[this.waiting++] = event;
      return;
    }
    this.flush();
    this.emit(event);
    this.fresh = false; // listeners ran after the reading
  }

  /** Emits one finished call's event to the host's listeners. */
  protected emit(event: HookEndEvent | HookErrorEvent): void {
    if (!("error" in event)) {
      if (this.core.onEnd) this.core.emitEnd(event);
    } else if (this.core.onError) this.core.emitError(event);
  }

  /** Emits the events that wait, in call order. A listener that throws stops the rest (as EventEmitter#emit does). */
  protected flush(): void {
    const count = this.waiting;
    if (count === 0) return;
    this.waiting = 0;
    this.fresh = false; // listeners run after the last reading
    const events = this.events!;
    for (let i = 0; i < count; i++) this.emit(events[i]!);
  }

  /** Flushes before the run fails with `error`; a listener's own error then gives way to the run's. */
  protected flushBefore(error: unknown): unknown {
    try {
      this.flush();
    } catch {
      // the run already fails with `error`
    }
    return error;
  }

  /** Reads the host's clock; the reading is fresh until a plugin or a listener runs. */
  protected read(): number {
    const t = this.core.now();
    this.clock = t;
    this.fresh = true;
    return t;
  }

  /** The time a call ended: the reading just taken when the run took one since the plugin ran, else a new one. */
  protected endTime(): number {
    return this.fresh ? this.clock : this.read();
  }
}
