/**
 * One host call's run through a hook point's plugins.
 *
 * tapable's compiled SyncHook visits the enabled plugins in priority order; each plugin is called synchronously
 * until one returns a promise. From then on the run goes on by itself from that plugin's place in the chain,
 * driven by promise callbacks one step at a time, so sync plugins never pay for a promise and async plugins pay
 * for one `then` each, as in tapable's own async hooks. A run is one object: the sync pass, the async steps and
 * the watchdog's list links all live on it.
 *
 * Time limits: an async step's deadline counts from the moment its plugin was called. The clock is read once per
 * async step: when the step settles (a result at or after the deadline is refused as a timeout), and that reading
 * is also the start of the plugin called right after it; a plugin called after synchronous ones reads the clock
 * when it returns its promise instead.
 */
import { PluginAbortedError, PluginHookError, PluginTimeoutError } from "../errors.js";
import type { DispatchKind, HookName } from "../plugins/hookPoints.js";
import type { Chain } from "./chain.js";
import type { ChainEntry, HookFunction } from "./chainEntry.js";
import { CallContext } from "./hookContext.js";
import type { HookEndEvent, HookErrorEvent, HostCore } from "./hostCore.js";
import { channelActive, HookCall, invokePublished, publishError, publishResult, publishWentAsync } from "./tracing.js";
import type { Watched } from "./watchdog.js";

/** How one hook point calls a plugin and folds its result into the run. */
export interface HookSpec {
  /** The hook point. */
  readonly name: HookName;
  /** How the host runs it (published with every call on the TracingChannel). */
  readonly kind: DispatchKind;
  /** Whether a call with no plugin to run resolves with its input value (waterfalls) rather than nothing. */
  readonly returnsValue: boolean;
  /** Calls the plugin method with the hook point's arguments; `input` is the value flowing through the chain. */
  invoke(fn: HookFunction, target: object, ctx: CallContext, input: unknown, run: Run): unknown;
  /** Folds a plugin's result into the run; throws a TypeError saying what a valid result is. */
  accept(run: Run, result: unknown, input: unknown, entry: ChainEntry): void;
  /** The value a fail-open plugin works on, so that its failure leaves the run's value untouched. */
  copy(value: unknown): unknown;
  /** Fail-open only: records, before the call, what undoing a failed call needs. */
  snapshot?(input: unknown): unknown;
  /** Fail-open only: undoes what a failed call started (`snapshot` is what snapshot returned); never throws. */
  restore?(run: Run, input: unknown, snapshot: unknown, error: PluginHookError): void;
  /** What the host call resolves with. */
  result(run: Run): unknown;
}

/** What a run does when a fail-closed plugin fails: stop at once, or go on and report all failures at the end. */
export type FailureMode = "stop" | "collect";

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value instanceof Promise ||
    (value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function")
  );
}

const noop = (): void => {};
// The resolvers of the promise being made: one shared executor, no closure per run.
let madeResolve: (value: unknown) => void = noop;
let madeReject: (error: unknown) => void = noop;
function executor(resolve: (value: unknown) => void, reject: (error: unknown) => void): void {
  madeResolve = resolve;
  madeReject = reject;
}

/** Gives a finished call's context back to its entry for the next call, unless the plugin read its signal or it was aborted. */
function release(entry: ChainEntry, ctx: CallContext): void {
  if (ctx.reusable) entry.ctx = ctx;
}

function aggregate(run: Run): AggregateError {
  const errors = run.errors!;
  return new AggregateError(
    errors,
    `${errors.length} plugin${errors.length === 1 ? "" : "s"} failed in ${run.spec.name}: ${errors.map((e) => e.message).join("; ")}`,
  );
}

/** State of one host call. */
export class Run implements Watched {
  /** The value flowing through a waterfall. */
  value: unknown = undefined;
  /** First extra argument of the hook point. */
  a: unknown = undefined;
  /** Second extra argument of the hook point. */
  b: unknown = undefined;
  /** Per-kind accumulator (started daemon plugins, the stream composer). */
  acc: unknown = undefined;
  /** Failures collected in "collect" mode. */
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

  // the pending step
  #ctx: CallContext | undefined = undefined;
  #input: unknown = undefined;
  #snapshot: unknown = undefined;
  #message: HookCall | undefined = undefined;
  // when the plugin called last started (read only for a timed run)
  #startedAt = 0;
  // the last clock reading, and whether no plugin ran since (then it is also the next plugin's start)
  #clock = 0;
  #fresh = false;
  // hookEnd/hookError events of calls that finished in this synchronous stretch: the first #waiting of #events, in
  // call order (see #report); the array is kept for the run's next stretch
  #events: (HookEndEvent | HookErrorEvent)[] | undefined = undefined;
  #waiting = 0;
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
        if (this.errors !== undefined) throw aggregate(this);
        const value = this.spec.result(this);
        this.#flush();
        return Promise.resolve(value);
      }
    } catch (error) {
      return Promise.reject(this.#flushBefore(error));
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

  /** Calls one plugin; a promise result becomes the pending step. Throws when a failure must stop the run. */
  invoke(entry: ChainEntry): void {
    const spec = this.spec;
    // a clock reading taken since the last plugin ran is this plugin's start (-1: none yet)
    let start = this.#fresh ? this.#clock : -1;
    this.#fresh = false;
    this.current = entry;
    // the entry's spare context, or a new one while another call of this plugin holds it
    const ctx = entry.ctx ?? new CallContext(entry.name, spec.name);
    entry.ctx = undefined;
    let input = this.value;
    let snapshot: unknown;
    let message: HookCall | undefined;
    let result: unknown;
    // the deadline's base: `start` only when nothing ran between that reading and the call (-1: read when the
    // plugin's promise comes back, which can only make the limit later, never earlier)
    let base = start;
    try {
      if (this.timed) {
        if (start < 0) start = this.core.now();
        this.#startedAt = start;
        if (this.core.onStart) {
          this.#flush();
          this.core.emitStart({ plugin: entry.name, hook: spec.name });
          base = -1;
        } else base = start;
      }
      if (entry.failOpen) {
        base = -1;
        input = spec.copy(input);
        if (spec.snapshot !== undefined) snapshot = spec.snapshot(input);
      }
      if (this.publish) {
        message = new HookCall(spec.name, spec.kind, entry);
        result = invokePublished(message, spec, entry.fn, entry.target, ctx, input, this);
      } else {
        result = spec.invoke(entry.fn, entry.target, ctx, input, this);
      }
    } catch (error) {
      release(entry, ctx);
      this.fail(entry, error, message, false, input, snapshot);
      return;
    }
    if (isThenable(result)) {
      // this call keeps its context for good: a plugin may hold it, and read its signal, after the call settled
      this.pending = result;
      this.#ctx = ctx;
      this.#input = input;
      this.#snapshot = snapshot;
      this.#message = message;
      if (message !== undefined) publishWentAsync(message);
      const limit = entry.timeoutMs;
      this.deadline = limit > 0 ? (base < 0 ? this.core.now() : base) + limit : Infinity;
      return;
    }
    release(entry, ctx);
    this.accept(entry, result, input, message, false, snapshot);
  }

  /** Folds a plugin's result into the run (a bad result is that plugin's failure); `async`: it came from a promise. */
  accept(entry: ChainEntry, result: unknown, input: unknown, message: HookCall | undefined, async: boolean, snapshot: unknown): void {
    try {
      this.spec.accept(this, result, input, entry);
    } catch (error) {
      this.fail(entry, error, message, async, input, snapshot);
      return;
    }
    if (message !== undefined) {
      publishResult(message, result, async);
      this.#fresh = false; // subscribers ran: the reading is no longer the next plugin's start
    }
    if (this.timed && this.core.onEnd) this.#report(entry, undefined, this.#endTime() - this.#startedAt);
  }

  /** Reports a plugin failure and undoes what a fail-open plugin started; throws it when it must stop the run. */
  fail(entry: ChainEntry, error: unknown, message: HookCall | undefined, async: boolean, input: unknown, snapshot: unknown): void {
    const hook = this.spec.name;
    const wrapped =
      error instanceof PluginHookError && error.plugin === entry.name && error.hook === hook
        ? error
        : new PluginHookError(entry.name, hook, error);
    this.#failed(entry, wrapped, message, async);
    if (entry.failOpen) {
      if (this.spec.restore !== undefined) this.spec.restore(this, input, snapshot, wrapped);
      this.#fresh = false; // events and the restore ran after the reading
      return;
    }
    if (this.mode === "collect") {
      (this.errors ??= []).push(wrapped);
      return;
    }
    throw wrapped;
  }

  /** Called by the watchdog, or when a step settles at or after its deadline: the step fails with a timeout. */
  timeOut(): void {
    const entry = this.current!;
    const error = new PluginTimeoutError(entry.name, this.spec.name, entry.timeoutMs);
    this.#ctx!.abort(error);
    this.#newHandlers(); // what the step still delivers is ignored
    this.#failStep(error);
  }

  /** Publishes and emits a failed call. */
  #failed(entry: ChainEntry, error: PluginHookError, message: HookCall | undefined, async: boolean): void {
    if (message !== undefined) publishError(message, error, async);
    if (this.timed && this.core.onError) this.#report(entry, error, this.#endTime() - this.#startedAt);
  }

  /**
   * Reports a finished call (hookEnd, or hookError with `error`). While nobody listens to hookStart, the event waits
   * for the end of this synchronous stretch of the run (#flush: when the run awaits a plugin's promise, and when it
   * is over), so that no listener runs between two plugin calls: the reading that ended this call is then also the
   * next call's start, and no listener's time counts in a plugin's duration or time limit. With a hookStart
   * listener the events go out at once, around each call, in order.
   */
  #report(entry: ChainEntry, error: PluginHookError | undefined, durationMs: number): void {
    const hook = this.spec.name;
    const event: HookEndEvent | HookErrorEvent =
      error === undefined
        ? { plugin: entry.name, hook, durationMs }
        : { plugin: entry.name, hook, error, failPolicy: entry.failOpen ? "fail-open" : "fail-closed", durationMs };
    if (!this.core.onStart) {
      (this.#events ??= [])[this.#waiting++] = event;
      return;
    }
    this.#flush();
    this.#emit(event);
    this.#fresh = false; // listeners ran after the reading
  }

  #emit(event: HookEndEvent | HookErrorEvent): void {
    if (!("error" in event)) {
      if (this.core.onEnd) this.core.emitEnd(event);
    } else if (this.core.onError) this.core.emitError(event);
  }

  /** Emits the events that wait, in call order. A listener that throws stops the rest (as EventEmitter#emit does). */
  #flush(): void {
    const count = this.#waiting;
    if (count === 0) return;
    this.#waiting = 0;
    this.#fresh = false; // listeners run after the last reading
    const events = this.#events!;
    for (let i = 0; i < count; i++) this.#emit(events[i]!);
  }

  /** Flushes before the run fails with `error`; a listener's own error then gives way to the run's. */
  #flushBefore(error: unknown): unknown {
    try {
      this.#flush();
    } catch {
      // the run already fails with `error`
    }
    return error;
  }

  #read(): number {
    const t = this.core.now();
    this.#clock = t;
    this.#fresh = true;
    return t;
  }

  /** The time a call ended: the reading just taken when the run took one since the plugin ran, else a new one. */
  #endTime(): number {
    return this.#fresh ? this.#clock : this.#read();
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
    if (this.#waiting > 0) {
      try {
        this.#flush();
      } catch (error) {
        // a listener threw: the run fails with its error, and the pending call is aborted
        this.#ctx!.abort(error);
        this.#drop(error);
      }
    }
  }

  #stepDone(result: unknown): void {
    // a result that arrives at or after the deadline is refused, even when the watchdog has not fired yet
    if (this.deadline !== Infinity && this.#read() >= this.deadline) {
      this.timeOut();
      return;
    }
    this.pending = undefined;
    this.deadline = Infinity;
    try {
      this.accept(this.current!, result, this.#input, this.#message, true, this.#snapshot);
    } catch (stop) {
      this.#settle(stop);
      return;
    }
    this.#drain();
  }

  #stepFailed(error: unknown): void {
    if (this.deadline !== Infinity && this.#read() >= this.deadline) {
      this.timeOut();
      return;
    }
    this.#failStep(error);
  }

  #failStep(error: unknown): void {
    this.pending = undefined;
    this.deadline = Infinity;
    try {
      this.fail(this.current!, error, this.#message, true, this.#input, this.#snapshot);
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
      this.#settle(aggregate(this));
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
      this.#ctx!.abort(this.signal!.reason);
      if (error instanceof PluginHookError) this.#failed(this.current!, error, this.#message, true);
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
    if (this.#waiting > 0) {
      if (!ok) error = this.#flushBefore(error);
      else {
        try {
          this.#flush();
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
