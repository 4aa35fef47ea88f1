/**
 * One host call's run through a hook point's plugins.
 *
 * tapable's compiled SyncHook visits the plugins in priority order; each plugin is called synchronously
 * until one returns a promise. From then on the remaining plugins are queued and driven by promise
 * callbacks, one step at a time, so sync plugins never pay for a promise and async plugins pay for one
 * `then` each, as in tapable's own async hooks.
 */
import { PluginAbortedError, PluginHookError, PluginTimeoutError } from "../errors.js";
import type { HookName } from "../plugins/hookPoints.js";
import type { ChainEntry, HookFunction } from "./chainEntry.js";
import { CallContext } from "./hookContext.js";
import type { HostCore } from "./hostCore.js";
import type { Watched } from "./watchdog.js";

/** How one hook point calls a plugin and folds its result into the run. */
export interface HookSpec {
  /** The hook point. */
  readonly name: HookName;
  /** Whether a call with no plugin to run resolves with its input value (waterfalls) rather than nothing. */
  readonly returnsValue: boolean;
  /** Calls the plugin method with the hook point's arguments; `input` is the value flowing through the chain. */
  invoke(fn: HookFunction, target: object, ctx: CallContext, input: unknown, run: Run): unknown;
  /** Folds a plugin's result into the run; throws a TypeError saying what a valid result is. */
  accept(run: Run, result: unknown, input: unknown, entry: ChainEntry): void;
  /** The value a fail-open plugin works on, so that its failure leaves the run's value untouched. */
  copy(value: unknown): unknown;
  /** What the host call resolves with. */
  result(run: Run): unknown;
}

/** What a run does when a fail-closed plugin fails: stop at once, or go on and report all failures at the end. */
export type FailureMode = "stop" | "collect";

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/** State of one host call (the synchronous pass); async continuation state lives in Continuation. */
export class Run {
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
  /** The pending step's plugin, context, input and start time. */
  step: PendingStep | undefined = undefined;
  /** Plugins still to run once the pending step settles (a lifecycle's list, or the ones the sync pass deferred). */
  queue: readonly ChainEntry[] | undefined = undefined;
  /** The plugin called last (named when the caller cancels between steps). */
  current: ChainEntry | undefined = undefined;

  /** Creates a run of `spec` for `core`; `signal` is the caller's. */
  constructor(
    readonly core: HostCore,
    readonly spec: HookSpec,
    readonly signal: AbortSignal | undefined,
    readonly mode: FailureMode = "stop",
  ) {}

  /** Runs the plugins that tapable's compiled `call` visits; resolves with the hook point's result. */
  start(call: (run: Run) => void): Promise<unknown> {
    try {
      call(this);
      if (this.pending === undefined) {
        if (this.errors !== undefined) throw aggregate(this);
        return Promise.resolve(this.spec.result(this));
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return new Continuation(this).promise;
  }

  /** Runs `entries` in the given order (lifecycle hooks); resolves with the hook point's result. */
  startWith(entries: readonly ChainEntry[]): Promise<unknown> {
    this.queue = entries;
    return new Continuation(this).promise;
  }

  /** Called by tapable for each enabled plugin, in priority order. */
  visit(entry: ChainEntry): void {
    if (this.pending !== undefined) ((this.queue ??= []) as ChainEntry[]).push(entry);
    else if (this.signal === undefined || !this.signal.aborted) this.invoke(entry);
    else throw this.cancelled();
  }

  /** The error of a run its caller cancelled, naming the plugin that ran last. */
  cancelled(): unknown {
    const reason: unknown = this.signal!.reason;
    return this.current ? new PluginAbortedError(this.current.name, this.spec.name, reason) : reason;
  }

  /** Calls one plugin; a promise result becomes the pending step. Throws when a failure must stop the run. */
  invoke(entry: ChainEntry): void {
    const core = this.core;
    const t0 = core.tracing ? core.started(entry, this.spec.name) : 0;
    const ctx = entry.ctx;
    this.current = entry;
    let input = this.value;
    let result: unknown;
    try {
      if (entry.failOpen) input = this.spec.copy(input);
      result = this.spec.invoke(entry.fn, entry.target, ctx, input, this);
    } catch (error) {
      if (ctx.touched) entry.ctx = new CallContext(entry.name, this.spec.name);
      this.fail(entry, error, t0);
      return;
    }
    if (isThenable(result)) {
      // this call keeps its context (a timeout or cancel aborts its signal); later calls get a new one
      entry.ctx = new CallContext(entry.name, this.spec.name);
      this.pending = result;
      this.step = { entry, ctx, input, t0 };
      return;
    }
    if (ctx.touched) entry.ctx = new CallContext(entry.name, this.spec.name);
    this.accept(entry, result, input, t0);
  }

  /** Folds a plugin's result into the run (a bad result is that plugin's failure). */
  accept(entry: ChainEntry, result: unknown, input: unknown, t0: number): void {
    try {
      this.spec.accept(this, result, input, entry);
    } catch (error) {
      this.fail(entry, error, t0);
      return;
    }
    if (t0) this.core.ended(entry, this.spec.name, t0);
  }

  /** Reports a plugin failure; throws it when it must stop the run. */
  fail(entry: ChainEntry, error: unknown, t0: number): void {
    const hook = this.spec.name;
    const wrapped =
      error instanceof PluginHookError && error.plugin === entry.name && error.hook === hook
        ? error
        : new PluginHookError(entry.name, hook, error);
    this.core.failed(entry, hook, wrapped, t0);
    if (entry.failOpen) return;
    if (this.mode === "collect") {
      (this.errors ??= []).push(wrapped);
      return;
    }
    throw wrapped;
  }
}

/** The async step a run waits on. */
interface PendingStep {
  readonly entry: ChainEntry;
  readonly ctx: CallContext;
  readonly input: unknown;
  readonly t0: number;
}

function aggregate(run: Run): AggregateError {
  const errors = run.errors!;
  return new AggregateError(
    errors,
    `${errors.length} plugin${errors.length === 1 ? "" : "s"} failed in ${run.spec.name}: ${errors.map((e) => e.message).join("; ")}`,
  );
}

/** Drives a run after its first async step: one `then` per async step, timeouts, cancellation. */
class Continuation implements Watched {
  readonly promise: Promise<unknown>;
  stepSeq = 0;
  seenStep = -1;
  seenAt = 0;
  /** Previous run in the watchdog's list. */
  prev: Watched | undefined = undefined;
  /** Next run in the watchdog's list. */
  next: Watched | undefined = undefined;
  #next = 0;
  #settled = false;
  #watched = false;
  #resolve!: (value: unknown) => void;
  #reject!: (error: unknown) => void;
  #onAbort: (() => void) | undefined;
  #onDone!: (result: unknown) => void;
  #onFailed!: (error: unknown) => void;

  constructor(readonly run: Run) {
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#newHandlers();
    const signal = run.signal;
    if (signal) {
      if (signal.aborted) {
        this.#abort();
        return;
      }
      this.#onAbort = () => this.#abort();
      signal.addEventListener("abort", this.#onAbort, { once: true });
    }
    if (run.pending !== undefined) this.#await();
    else this.#drain();
  }

  get stepTimeoutMs(): number {
    return this.run.step?.entry.timeoutMs ?? 0;
  }

  get waiting(): boolean {
    return this.run.pending !== undefined && !this.#settled;
  }

  /**
   * One pair of settle handlers serves every step of the run. A step abandoned by a timeout or a cancel
   * may still settle later: a new pair is made then, and the old pair ignores what arrives.
   */
  #newHandlers(): void {
    const seq = ++this.stepSeq;
    this.#onDone = (result) => {
      if (seq === this.stepSeq && !this.#settled) this.#stepDone(result);
    };
    this.#onFailed = (error) => {
      if (seq === this.stepSeq && !this.#settled) this.#stepFailed(error);
    };
  }

  #await(): void {
    const run = this.run;
    const limit = run.step!.entry.timeoutMs;
    if (limit > 0 && (!this.#watched || limit < run.core.watchdog.shortestMs)) {
      this.#watched = true;
      run.core.watchdog.watch(this, limit);
    }
    this.seenStep = -1;
    run.pending!.then(this.#onDone, this.#onFailed);
  }

  #stepDone(result: unknown): void {
    const run = this.run;
    const step = run.step!;
    run.pending = undefined;
    try {
      run.accept(step.entry, result, step.input, step.t0);
    } catch (error) {
      this.#settle(error);
      return;
    }
    this.#drain();
  }

  #stepFailed(error: unknown): void {
    const run = this.run;
    const step = run.step!;
    run.pending = undefined;
    try {
      run.fail(step.entry, error, step.t0);
    } catch (stop) {
      this.#settle(stop);
      return;
    }
    this.#drain();
  }

  #drain(): void {
    const run = this.run;
    const queue = run.queue;
    if (queue) {
      while (this.#next < queue.length) {
        const entry = queue[this.#next++]!;
        if (!entry.enabled) continue;
        try {
          run.invoke(entry);
        } catch (error) {
          this.#settle(error);
          return;
        }
        // The caller may have cancelled while that plugin ran: run no further plugin.
        if (this.#settled) return;
        if (run.pending !== undefined) {
          this.#await();
          return;
        }
      }
    }
    if (run.errors?.length) {
      this.#settle(aggregate(run));
      return;
    }
    let value: unknown;
    try {
      value = run.spec.result(run);
    } catch (error) {
      this.#settle(error);
      return;
    }
    this.#settle(undefined, value, true);
  }

  /** Called by the watchdog when the current async step has exceeded its limit: the step fails with a timeout. */
  timeOut(): void {
    const run = this.run;
    const step = run.step!;
    const error = new PluginTimeoutError(step.entry.name, run.spec.name, step.entry.timeoutMs);
    step.ctx.abort(error);
    this.#newHandlers();
    this.#stepFailed(error);
  }

  #abort(): void {
    const run = this.run;
    if (run.pending !== undefined) run.step!.ctx.abort(run.signal!.reason);
    this.#newHandlers();
    run.pending = undefined;
    this.#settle(run.cancelled());
  }

  #settle(error: unknown, value?: unknown, ok = false): void {
    if (this.#settled) return;
    this.#settled = true;
    if (this.#watched) this.run.core.watchdog.unwatch(this);
    if (this.#onAbort) this.run.signal!.removeEventListener("abort", this.#onAbort);
    if (ok) this.#resolve(value);
    else this.#reject(error);
  }
}
