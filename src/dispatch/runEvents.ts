/**
 * A run's clock readings and the hookEnd/hookError events of its plugin calls.
 *
 * The clock is read as rarely as the guarantees allow: a reading that ended one call is also the start of the next
 * call when nothing ran in between (`run.fresh`). While nobody listens to hookStart, finished calls' events wait
 * for the end of the run's synchronous stretch (see reportCall), so no listener runs between two plugin calls.
 * Plain functions of the run, not methods of a base class: the run stays one class with one constructor, and each
 * call here is a direct call.
 */
import type { PluginHookError } from "../errors.js";
import type { ChainEntry } from "./chainEntry.js";
import type { HookEndEvent, HookErrorEvent, HostCore } from "./hostCore.js";
import type { Run } from "./run.js";

/**
 * Reports a finished call (hookEnd, or hookError with `error`). While nobody listens to hookStart, the event waits
 * for the end of this synchronous stretch of the run (flushEvents: when the run awaits a plugin's promise, and when
 * it is over), so that no listener runs between two plugin calls: the reading that ended this call is then also the
 * next call's start, and no listener's time counts in a plugin's duration or time limit. With a hookStart listener
 * the events go out at once, around each call, in order.
 */
export function reportCall(run: Run, entry: ChainEntry, error: PluginHookError | undefined, durationMs: number): void {
  const hook = run.spec.name;
  const event: HookEndEvent | HookErrorEvent =
    error === undefined
      ? { plugin: entry.name, hook, durationMs }
      : { plugin: entry.name, hook, error, failPolicy: entry.failOpen ? "fail-open" : "fail-closed", durationMs };
  if (!run.core.onStart) {
    (run.events ??= [])[run.waiting++] = event;
    return;
  }
  flushEvents(run);
  emitEvent(run.core, event);
  run.fresh = false; // listeners ran after the reading
}

function emitEvent(core: HostCore, event: HookEndEvent | HookErrorEvent): void {
  if (!("error" in event)) {
    if (core.onEnd) core.emitEnd(event);
  } else if (core.onError) core.emitError(event);
}

/** Emits the events that wait, in call order. A listener that throws stops the rest (as EventEmitter#emit does). */
export function flushEvents(run: Run): void {
  const count = run.waiting;
  if (count === 0) return;
  run.waiting = 0;
  run.fresh = false; // listeners run after the last reading
  const events = run.events!;
  for (let i = 0; i < count; i++) emitEvent(run.core, events[i]!);
}

/** Flushes before the run fails with `error`; a listener's own error then gives way to the run's. */
export function flushBefore(run: Run, error: unknown): unknown {
  try {
    flushEvents(run);
  } catch {
    // the run already fails with `error`
  }
  return error;
}

/** Reads the host's clock; the reading is fresh until a plugin or a listener runs. */
export function readClock(run: Run): number {
  const t = run.core.now();
  run.clock = t;
  run.fresh = true;
  return t;
}

/** The time a call ended: the reading just taken when the run took one since the plugin ran, else a new one. */
export function endTime(run: Run): number {
  return run.fresh ? run.clock : readClock(run);
}
