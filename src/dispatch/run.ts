/**
 * One host call's run through a hook point's plugins, from its start to the promise its caller gets.
 *
 * tapable's compiled SyncHook visits the enabled plugins in priority order; each plugin is called synchronously
 * until one returns a promise. From then on the run goes on by itself from that plugin's place in the chain,
 * driven by promise callbacks one step at a time, so sync plugins never pay for a promise and async plugins pay
 * for one `then` each, as in tapable's own async hooks. A run is one object: the sync pass, the async steps and
 * the watchdog's list links all live on it. One plugin's call is in pluginCall.ts, the clock and the events in
 * runEvents.ts, the run's errors in runFailures.ts.
 *
 * Time limits: an async step's deadline counts from the moment its plugin was called. The clock is read once per
 * async step: when the step settles (a result at or after the deadline is refused as a timeout), and that reading
 * is also the start of the plugin called right after it; a plugin called after synchronous ones reads the clock
 * when it returns its promise instead.
 */
import { PluginAbortedError, PluginHookError, PluginTimeoutError } from "../errors.js";
import type { Chain } from "./chain.js";
import type { ChainEntry } from "./chainEntry.js";
import type { CallContext } from "./hookContext.js";
import type { HookSpec, RunValues } from "./hookSpec.js";
import type { HookEndEvent, HookErrorEvent, HostCore } from "./hostCore.js";
import { acceptResult, failPlugin, invokePlugin, reportFailure } from "./pluginCall.js";
import { flushBefore, flushEvents, readClock } from "./runEvents.js";
import { collectedFailures } from "./runFailures.js";
import { channelActive, type HookCall } from "./tracing.js";
import type { Watched } from "./watchdog.js";

/**
 * What a run does when a fail-closed plugin fails: stop at once; go on and reject with all failures at the end
 * ("collect"); or go on and resolve, the spec's result reading the failures ("report", observers).
 */
export type FailureMode = "stop" | "collect" | "report";

const noop = (): void => {};
// The resolvers of the promise being made: one shared executor, no closure per run.
let madeResolve: (value: unknown) => void = noop;
let madeReject: (error: unknown) => void = noop;
function executor(resolve: (value: unknown) => void, reject: (error: unknown) => void): void {
  madeResolve = resolve;
  madeReject = reject;
}

/** State of one host call. */
export class Run implements Watched, RunValues {
  /** The value flowing through a waterfall. */
  value: unknown = undefined;
  /** First extra argument of the hook point. */
  a: unknown = undefined;
  /** Second extra argument of the hook point. */
  b: unknown = undefined;
  /** Per-kind accumulator (started daemon plugins, the stream composer). */
  acc: unknown = undefined;
  /** Failures collected in "collect" and "report" modes. */
  errors: PluginHookError[] | undefined = undefined;
  /** The pending async step's promise, while there is one. */
  pending: PromiseLike<unknown> | undefined = undefined;
  /** The plugin called last: the pending step's plugin, or the one named when the caller cancels. */
  current: ChainEntry | undefined = undefined;
  /** When the pending step's limit runs out (host clock time; Infinity: no limit). */
  deadline = Infinity;
  /** Previous run in the watchdog's list. */
  prev: Watched | undefined = undefined;
  /** Next run in the watchdog's list. */
  next: Watched | undefined = undefined;
  /** Whether plugin calls are timed for the host's events: a hookStart/End/Error listener existed when the call began. */
  readonly timed: boolean;
  /** Whether the TracingChannel had subscribers when the call began. */
  readonly publish: boolean;

  // The fields below are the run's internals, shared with pluginCall.ts and runEvents.ts only.
  /** The pending step's call context. */
  stepCtx: CallContext | undefined = undefined;
  /** The pending step's input (the fail-open copy for a fail-open plugin). */
  stepInput: unknown = undefined;
  /** The pending step's fail-open snapshot. */
  stepSnapshot: unknown = undefined;
  /** The pending step's TracingChannel message. */
  stepMessage: HookCall | undefined = undefined;
  /** When the plugin called last started (read only for a timed run). */
  startedAt = 0;
  /** The last clock reading. */
  clock = 0;
  /** Whether no plugin ran since the last reading (then it is also the next plugin's start). */
  fresh = false;
  /** hookEnd/hookError events of calls that finished in this synchronous stretch: the first `waiting`, in call order (kept for the next stretch). */
  events: (HookEndEvent | HookErrorEvent)[] | undefined = undefined;
  /** How many of `events` wait to be emitted. */
  waiting = 0;

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
    readonly core: HostCore,
    readonly spec: HookSpec,
    readonly signal: AbortSignal | undefined,
    readonly mode: FailureMode = "stop",
  ) {
    this.publish = channelActive();
    this.timed = core.listening;
  }

  /** Runs the plugins that `chain.call` visits; resolves with the hook point's result. */
  start(chain: Chain): Promise<unknown> {
    this.#list = chain.enabled;
    try {
      chain.call(this);
      if (this.pending === undefined) {
        if (this.errors !== undefined && this.mode === "collect") throw collectedFailures(this.spec.name, this.errors);
        const value = this.spec.result(this);
        flushEvents(this);
        return Promise.resolve(value);
      }
    } catch (error) {
      return Promise.reject(flushBefore(this, error));
    }
    return this.#continue();
  }

  /** Runs `entries` in the given order, skipping disabled ones (lifecycle hooks); resolves with the result. */
  startWith(entries: readonly ChainEntry[]): Promise<unknown> {
    this.#list = entries;
    this.#index = 0;
    return this.#continue();
  }

  /**
   * Called by tapable for each enabled plugin, in priority order. Returns true when a bail point has its answer:
   * the chain of a bail point is a SyncBailHook, which then calls no later plugin (other chains ignore the value).
   */
  visit(entry: ChainEntry): true | undefined {
    // once a step is pending, the run goes on by itself from the pending plugin's place
    if (this.pending !== undefined) return undefined;
    if (this.signal !== undefined && this.signal.aborted) throw this.cancelled();
    invokePlugin(this, entry);
    if (this.pending !== undefined) this.#index = entry.pos + 1;
    else if (this.spec.done !== undefined && this.spec.done(this)) return true;
    return undefined;
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
        flushEvents(this);
      } catch (error) {
        // a listener threw: the run fails with its error, and the pending call is aborted
        this.stepCtx!.abort(error);
        this.#drop(error);
      }
    }
  }

  #stepDone(result: unknown): void {
    // a result that arrives at or after the deadline is refused, even when the watchdog has not fired yet
    if (this.deadline !== Infinity && readClock(this) >= this.deadline) {
      this.timeOut();
      return;
    }
    this.pending = undefined;
    this.deadline = Infinity;
    try {
      acceptResult(this, this.current!, result, this.stepInput, this.stepMessage, true, this.stepSnapshot);
    } catch (stop) {
      this.#settle(stop);
      return;
    }
    this.#drain();
  }

  #stepFailed(error: unknown): void {
    if (this.deadline !== Infinity && readClock(this) >= this.deadline) {
      this.timeOut();
      return;
    }
    this.#failStep(error);
  }

  #failStep(error: unknown): void {
    this.pending = undefined;
    this.deadline = Infinity;
    try {
      failPlugin(this, this.current!, error, this.stepMessage, true, this.stepInput, this.stepSnapshot);
    } catch (stop) {
      this.#settle(stop);
      return;
    }
    this.#drain();
  }

  #drain(): void {
    const list = this.#list;
    const done = this.spec.done;
    while (this.#index < list.length) {
      // a bail point that has its answer asks no later plugin
      if (done !== undefined && done(this)) break;
      const entry = list[this.#index++]!;
      if (!entry.enabled) continue;
      try {
        invokePlugin(this, entry);
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
    if (this.errors?.length && this.mode === "collect") {
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
      if (error instanceof PluginHookError) reportFailure(this, this.current!, error, this.stepMessage, true);
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
      if (!ok) error = flushBefore(this, error);
      else {
        try {
          flushEvents(this);
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
