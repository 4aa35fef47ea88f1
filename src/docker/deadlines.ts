/**
 * Request deadlines for many concurrent requests without a timer each: one unref'd interval, running only while a
 * request is open, aborts the signals of those past their deadline (at most a quarter of the limit late).
 */

/** One open request's signal and the function that closes it. */
export interface Deadline {
  /** Aborted with a TimeoutError DOMException once the request is past its limit. */
  readonly signal: AbortSignal;
  /** Closes the request (call it when it is answered). */
  done(): void;
}

/** Deadlines of `limitMs` for the requests of one bridge. */
export class Deadlines {
  readonly #open = new Map<AbortController, number>();
  #timer: NodeJS.Timeout | undefined;

  /** Creates deadlines of `limitMs` milliseconds. */
  constructor(readonly limitMs: number) {}

  /** Opens a request that must be answered within the limit. */
  start(): Deadline {
    const controller = new AbortController();
    this.#open.set(controller, performance.now() + this.limitMs);
    if (!this.#timer) {
      this.#timer = setInterval(() => this.#sweep(), Math.max(1, Math.floor(this.limitMs / 4)));
      this.#timer.unref();
    }
    return { signal: controller.signal, done: () => this.#close(controller) };
  }

  #close(controller: AbortController): void {
    this.#open.delete(controller);
    if (this.#open.size === 0 && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  #sweep(): void {
    const now = performance.now();
    for (const [controller, deadline] of this.#open) {
      if (deadline <= now) {
        this.#close(controller);
        controller.abort(new DOMException(`the request took longer than ${this.limitMs} ms`, "TimeoutError"));
      }
    }
  }
}
