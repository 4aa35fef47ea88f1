/**
 * One host call's run through a hook point's plugins, from its start to the promise its caller gets.
 *
 * tapable's compiled SyncHook visits the enabled plugins in priority order; each plugin is called synchronously
 * until one returns a promise. From then on the run goes on by itself from that plugin's place in the chain,
 * driven by promise callbacks one step at a time, so sync plugins never pay for a promise and async plugins pay
 * for one `then` each, as in tapable's own async hooks. A run is one object: the sync pass, the async steps and
 * the watchdog's list links all live on it (one plugin's call is in pluginCalls.ts, the clock and the events in
 * timedRun.ts).
 *
 * Time limits: an async step's deadline counts from the moment its plugin was called. The clock is read once per
 * async step: when the step settles (a result at or after the deadline is refused as a timeout), and that reading
 * is also the start of the plugin called right after it; a plugin called after synchronous ones reads the clock
 * when it returns its promise instead.
 */
import { PluginAbortedError, PluginHookError, PluginTimeoutError } from "../errors.js";
import type { Chain } from "./chain.js";
import type { ChainEntry } from "./chainEntry.js";
import type { HookSpec } from "./hookSpec.js";
import type { HostCore } from "./hostCore.js";
import { PluginCalls, type FailureMode } from "./pluginCalls.js";
import { collectedFailures } from "./runFailures.js";
import type { Watched } from "./watchdog.js";

const noop = (): void => {};
// The resolvers of the promise being made: one shared executor, no closure per run.
let madeResolve: (value: unknown) => void = noop;
let madeReject: (error: unknown) => void = noop;
function executor(resolve: (value: unknown) => void, reject: (error: unknown) => void): void {
  madeResolve = resolve;
  madeReject = reject;
}

/** State of one host call. */
export class Run extends PluginCalls implements Watched {
  /** Previous run in the watchdog's list. */
  prev: Watched | undefined = undefined;
  /** Next run in the watchdog's list. */
  next: Watched | undefined = undefined;

  // where the run goes on after an async step
  #list: readonly ChainEntry[] = [];
  #index = 0;
  // the async part
  #seq = 0;
  #settled = false;
  #watched = false;
  #resolve: (value: unknown) => void = noop;
  #reject: (error: unknown) => void = noop;
  #onDone: (result: unknown) => void = noop;
  #onFailed: (error: unknown) => void = noop;
  #onAbort: (() => void) | undefined = undefined;

  /** Creates a run of `spec` for `core`; `signal` is the caller's. */
  constructor(
    core: HostCore,
    spec: HookSpec,
    readonly signal: AbortSignal | undefined,
    mode: FailureMode = "stop",
  ) {
    super(core, spec, mode);
  }

  /** Runs the plugins that `chain.call` visits; resolves with the hook point's result. */
  start(chain: Chain): Promise<unknown> {
    this.#list = chain.enabled;
    try {
      chain.call(this);
      if (this.pending === undefined) {
        if (this.errors !== undefined) throw collectedFailures(this.spec.name, this.errors);
        const value = this.spec.result(this);
        this.flush();
        return Promise.resolve(value);
      }
    } catch (error) {
      return Promise.reject(this.flushBefore(error));
    }
    return this.#continue();
  }

  /** Runs `entries` in the given order, skipping disabled ones (lifecycle hooks); resolves with the result. */
  startWith(entries: readonly ChainEntry[]): Promise<unknown> {
    this.#list = entries;
    this.#index = 0;
    return this.#continue();
  }

  /** Called by tapable for each enabled plugin, in priority order. */
  visit(entry: ChainEntry): void {
    // once a step is pending, the run goes on by itself from the pending plugin's place
    if (this.pending !== undefined) return;
    if (this.signal !== undefined && this.signal.aborted) throw this.cancelled();
    this.invoke(entry);
    if (this.pending !== undefined) this.#index = entry.pos + 1;
  }

  /** The error of a run its caller cancelled, naming the plugin that ran last. */
  cancelled(): unknown {
    const reason: unknown = this.signal!.reason;
    return this.current ? new PluginAbortedError(this.current.name, this.spec.name, reason) : reason;
  }

  /** Called by the watchdog, or when a step settles at or after its deadline: the step fails with a timeout. */
  timeOut(): void {
    const entry = this.current!;
    const error = new PluginTimeoutError(entry.name, this.spec.name, entry.timeoutMs);
    this.stepCtx!.abort(error);
    this.#newHandlers(); // what the step still delivers is ignored
    this.#failStep(error);
  }

  /** Makes the promise the caller gets and drives the run from its first async step. */
  #continue(): Promise<unknown> {
    const promise = new Promise(executor);
    this.#resolve = madeResolve;
    this.#reject = madeReject;
    this.#newHandlers();
    const signal = this.signal;
    if (signal) {
      if (signal.aborted) {
        // a step left before it was awaited: its rejection must not go unhandled
        if (this.pending !== undefined) this.pending.then(noop, noop);
        this.#abort();
        return promise;
      }
      this.#onAbort = () => this.#abort();
      signal.addEventListener("abort", this.#onAbort, { once: true });
    }
    if (this.pending !== undefined) this.#await();
    else this.#drain();
    return promise;
  }

  /**
   * One pair of settle handlers serves every step of the run. A step abandoned by a timeout or a cancel
   * may still settle later: a new pair is made then, and the old pair ignores what arrives.
   */
  #newHandlers(): void {
    const seq = ++this.#seq;
    this.#onDone = (result) => {
      if (seq === this.#seq && !this.#settled) this.#stepDone(result);
    };
    this.#onFailed = (error) => {
      if (seq === this.#seq && !this.#settled) this.#stepFailed(error);
    };
  }

  #await(): void {
    const limit = this.current!.timeoutMs;
    const watchdog = this.core.watchdog;
    if (limit > 0 && (!this.#watched || limit < watchdog.shortestMs)) {
      this.#watched = true;
      watchdog.watch(this, limit);
    }
    // the handlers go on first: a step abandoned below must not leave its rejection unhandled
    this.pending!.then(this.#onDone, this.#onFailed);
    if (this.waiting > 0) {
      try {
        this.flush();
      } catch (error) {
        // a listener threw: the run fails with its error, and the pending call is aborted
        this.stepCtx!.abort(error);
        this.#drop(error);
      }
    }
  }

  #stepDone(result: unknown): void {
    // a result that arrives at or after the deadline is refused, even when the watchdog has not fired yet
    if (this.deadline !== Infinity && this.read() >= this.deadline) {
      this.timeOut();
      return;
    }
    this.pending = undefined;
    this.deadline = Infinity;
    try {
      this.accept(this.current!, result, this.stepInput, this.stepMessage, true, this.stepSnapshot);
    } catch (stop) {
      this.#settle(stop);
      return;
    }
    this.#drain();
  }

  #stepFailed(error: unknown): void {
    if (this.deadline !== Infinity && this.read() >= this.deadline) {
      this.timeOut();
      return;
    }
    this.#failStep(error);
  }

  #failStep(error: unknown): void {
    this.pending = undefined;
    this.deadline = Infinity;
    try {
      this.fail(this.current!, error, this.stepMessage, true, this.stepInput, this.stepSnapshot);
    } catch (stop) {
      this.#settle(stop);
      return;
    }
    this.#drain();
  }

  #drain(): void {
    const list = this.#list;
    while (this.#index < list.length) {
      const entry = list[this.#index++]!;
      if (!entry.enabled) continue;
      try {
        this.invoke(entry);
      } catch (error) {
        this.#settle(error);
        return;
      }
      // The caller may have cancelled while that plugin ran: run no further plugin.
      if (this.#settled) return;
      if (this.pending !== undefined) {
        this.#await();
        return;
      }
    }
    if (this.errors?.length) {
      this.#settle(collectedFailures(this.spec.name, this.errors));
      return;
    }
    let value: unknown;
    try {
      value = this.spec.result(this);
    } catch (error) {
      this.#settle(error);
      return;
    }
    this.#settle(undefined, value, true);
  }

  #abort(): void {
    const error = this.cancelled();
    if (this.pending !== undefined) {
      this.stepCtx!.abort(this.signal!.reason);
      if (error instanceof PluginHookError) this.failed(this.current!, error, this.stepMessage, true);
    }
    this.#drop(error);
  }

  /** Leaves the pending step (what it still delivers is ignored) and settles the run with `error`. */
  #drop(error: unknown): void {
    this.#newHandlers();
    this.pending = undefined;
    this.deadline = Infinity;
    this.#settle(error);
  }

  #settle(error: unknown, value?: unknown, ok = false): void {
    if (this.#settled) return;
    if (this.waiting > 0) {
      if (!ok) error = this.flushBefore(error);
      else {
        try {
          this.flush();
        } catch (listenerError) {
          error = listenerError;
          ok = false;
        }
      }
    }
    this.#settled = true;
    if (this.#watched) this.core.watchdog.unwatch(this);
    if (this.#onAbort) this.signal!.removeEventListener("abort", this.#onAbort);
    if (ok) this.#resolve(value);
    else this.#reject(error);
  }
}
