/**
 * Enforces per-plugin time limits on async hook calls with one shared timer and no clock read per call.
 *
 * A run's pending step is first seen by a tick at time `seenAt` (after the step began); it times out at a
 * later tick when the same step is still pending and `now - seenAt >= limit`. Steps therefore never time out
 * early, and at most two tick intervals late; the interval is a sixteenth of the smallest limit in use.
 * Runs are kept in an intrusive doubly linked list: adding and removing one costs a few pointer writes.
 */

/** What the watchdog needs from a run. */
export interface Watched {
  /** Changes whenever the run moves to another async step. */
  readonly stepSeq: number;
  /** The current step's time limit in ms (0: none). */
  readonly stepTimeoutMs: number;
  /** Whether the run waits on an async step. */
  readonly waiting: boolean;
  /** The step seen by the last tick (-1: not seen yet). */
  seenStep: number;
  /** When that tick saw it. */
  seenAt: number;
  /** Previous run in the list. */
  prev: Watched | undefined;
  /** Next run in the list. */
  next: Watched | undefined;
  /** Called when the current step has exceeded its limit. */
  timeOut(): void;
}

const MIN_INTERVAL_MS = 1;
const MAX_INTERVAL_MS = 1000;

/** Shared timer that times out the async steps of in-flight runs. */
export class Watchdog {
  #head: Watched | undefined;
  #timer: NodeJS.Timeout | undefined;
  #interval = Infinity;
  #shortest = Infinity;

  /** The smallest limit being watched (a run re-registers only for a smaller one). */
  get shortestMs(): number {
    return this.#shortest;
  }

  /** Starts watching `run` (again), whose current step has the limit `timeoutMs` (> 0). */
  watch(run: Watched, timeoutMs: number): void {
    if (run.prev === undefined && this.#head !== run) {
      run.next = this.#head;
      if (this.#head) this.#head.prev = run;
      this.#head = run;
    }
    if (timeoutMs < this.#shortest) this.#shortest = timeoutMs;
    const interval = Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, Math.floor(timeoutMs / 16)));
    if (interval < this.#interval) {
      if (this.#timer) clearTimeout(this.#timer);
      this.#interval = interval;
      this.#timer = setTimeout(this.#tick, interval);
    }
  }

  /** Stops watching `run`. */
  unwatch(run: Watched): void {
    if (run.prev) run.prev.next = run.next;
    else if (this.#head === run) this.#head = run.next;
    else return;
    if (run.next) run.next.prev = run.prev;
    run.prev = run.next = undefined;
  }

  #tick = (): void => {
    this.#timer = undefined;
    const now = performance.now();
    for (let run = this.#head; run; ) {
      const next = run.next; // timeOut() may unwatch run
      if (run.waiting && run.stepTimeoutMs > 0) {
        if (run.seenStep !== run.stepSeq) {
          run.seenStep = run.stepSeq;
          run.seenAt = now;
        } else if (now - run.seenAt >= run.stepTimeoutMs) {
          run.timeOut();
        }
      }
      run = next;
    }
    if (this.#head) this.#timer = setTimeout(this.#tick, this.#interval);
    else {
      this.#interval = Infinity;
      this.#shortest = Infinity;
    }
  };
}
