/**
 * Fires the time limits of pending async steps with one shared timer per host.
 *
 * Each step carries its own deadline, counted from when its plugin was called, so a tick only compares. A tick
 * runs every sixteenth of the smallest limit in use (between 1 ms and 1 s): a step times out at most one interval
 * after its deadline, unless the event loop itself is blocked (then the run's own settle-time check still refuses
 * a late result). Runs are kept in an intrusive doubly linked list: adding and removing one costs a few pointer
 * writes.
 *
 * Keeping the process alive: the timer is unref'd, so it never holds the process by itself, and a call costs no
 * ref/unref (each a call into libuv when no other timer is ref'd). When the event loop runs out of work while a
 * call is still pending (a plugin waiting on nothing that the loop knows about), the process's `beforeExit` event
 * refs the timer of every watchdog with a pending call: the process then lives until the limit fires and the call
 * fails with its timeout. Once no call is pending, nothing holds the process: it can exit at once.
 */
import type { Clock } from "./clock.js";

/** What the watchdog needs from a run. */
export interface Watched {
  /** When the pending step's limit runs out (the host clock's time); Infinity: no limit or no pending step. */
  readonly deadline: number;
  /** Previous run in the list. */
  prev: Watched | undefined;
  /** Next run in the list. */
  next: Watched | undefined;
  /** Called when the pending step has reached its deadline. */
  timeOut(): void;
}

const MIN_INTERVAL_MS = 1;
const MAX_INTERVAL_MS = 1000;

/** Tick interval for a limit: a sixteenth of it, between 1 ms and 1 s. */
export function tickIntervalMs(limitMs: number): number {
  return Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, Math.floor(limitMs / 16)));
}

/** The watchdogs whose timer runs (this copy of the library's): the ones `beforeExit` looks at. */
const running = new Set<Watchdog>();
let beforeExitListening = false;

/** The event loop ran out of work: hold the process for every watchdog that still has a pending call. */
function holdPendingCalls(): void {
  for (const watchdog of running) watchdog.holdIfPending();
}

/** Shared timer that times out the async steps of in-flight runs. */
export class Watchdog {
  #head: Watched | undefined;
  #timer: NodeJS.Timeout | undefined;
  #interval = Infinity;
  #shortest = Infinity;
  readonly #now: Clock;

  /** Creates a watchdog that reads `now` (the host's clock). */
  constructor(now: Clock) {
    this.#now = now;
  }

  /** The smallest limit being watched (a run registers again only for a smaller one). */
  get shortestMs(): number {
    return this.#shortest;
  }

  /** Whether the watchdog's timer currently keeps the process alive (only after the loop ran out of other work). */
  get keepsAlive(): boolean {
    return this.#timer !== undefined && this.#timer.hasRef();
  }

  /** Starts watching `run` (if it is not watched yet) whose pending step has the limit `timeoutMs` (> 0). */
  watch(run: Watched, timeoutMs: number): void {
    if (run.prev === undefined && this.#head !== run) {
      run.next = this.#head;
      if (this.#head) this.#head.prev = run;
      this.#head = run;
    }
    if (timeoutMs < this.#shortest) {
      this.#shortest = timeoutMs;
      const interval = tickIntervalMs(timeoutMs);
      if (interval < this.#interval) {
        if (this.#timer) clearTimeout(this.#timer);
        this.#interval = interval;
        this.#timer = undefined;
      }
    }
    if (!this.#timer) this.#arm();
  }

  /** Stops watching `run`. */
  unwatch(run: Watched): void {
    if (run.prev) run.prev.next = run.next;
    else if (this.#head === run) this.#head = run.next;
    else return;
    if (run.next) run.next.prev = run.prev;
    run.prev = run.next = undefined;
  }

  /** Refs the timer while a call is pending (called from `beforeExit`). */
  holdIfPending(): void {
    if (this.#head && this.#timer) this.#timer.ref();
  }

  #arm(): void {
    this.#timer = setTimeout(this.#tick, this.#interval).unref();
    if (!running.has(this)) {
      running.add(this);
      if (!beforeExitListening) {
        beforeExitListening = true;
        process.on("beforeExit", holdPendingCalls);
      }
    }
  }

  #tick = (): void => {
    this.#timer = undefined;
    const now = this.#now();
    for (let run = this.#head; run; ) {
      const next = run.next; // timeOut() may unwatch run
      if (now >= run.deadline) run.timeOut();
      run = next;
    }
    if (this.#head) {
      // timeOut() may have started another call that armed the timer already: never run two timers
      if (this.#timer === undefined) this.#arm();
    } else if (this.#timer === undefined) {
      this.#interval = Infinity;
      this.#shortest = Infinity;
      running.delete(this);
    }
  };
}
