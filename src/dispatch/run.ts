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

/** State of one host call. */
export class Run implements Watched {
  /** The value flowing through a waterfall. */
  value: unknown;
  /** First extra argument of the hook point. */
  a: unknown;
  /** Second extra argument of the hook point. */
  b: unknown;
  /** Per-kind accumulator (prestart hooks, started plugins, streams). */
  acc: unknown;
  /** Failures collected in "collect" mode. */
  errors: PluginHookError[] | undefined;

  stepSeq = 0;
  seenStep = -1;
  seenAt = 0;

  #pending: PromiseLike<unknown> | undefined;
  #queue: ChainEntry[] | undefined;
  #next = 0;
  #current: ChainEntry | undefined;
  #ctx: CallContext | undefined;
  #input: unknown;
  #t0 = 0;
  #settled = false;
  #resolve: ((value: unknown) => void) | undefined;
  #reject: ((error: unknown) => void) | undefined;
  #onAbort: (() => void) | undefined;

  /** Creates a run of `spec` for `core`; `signal` is the caller's. */
  constructor(
    readonly core: HostCore,
    readonly spec: HookSpec,
    readonly signal: AbortSignal | undefined,
    readonly mode: FailureMode = "stop",
  ) {}

  /** The current async step's time limit. */
  get stepTimeoutMs(): number {
    return this.#current?.timeoutMs ?? 0;
  }

  /** Whether the run waits on an async step. */
  get waiting(): boolean {
    return this.#pending !== undefined && !this.#settled;
  }

  /** Runs the plugins that tapable's compiled `call` visits; resolves with the hook point's result. */
  start(call: (run: Run) => void): Promise<unknown> {
    try {
      call(this);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#pending === undefined) return this.#finishedSync();
    return this.#continueAsync();
  }

  /** Runs `entries` in the given order (lifecycle hooks); resolves with the hook point's result. */
  startWith(entries: ChainEntry[]): Promise<unknown> {
    this.#queue = entries;
    return this.#continueAsync();
  }

  /** Called by tapable for each plugin, in priority order. */
  visit(entry: ChainEntry): void {
    if (this.#pending !== undefined) {
      (this.#queue ??= []).push(entry);
      return;
    }
    if (entry.enabled) this.#invoke(entry);
  }

  #finishedSync(): Promise<unknown> {
    if (this.errors?.length) return Promise.reject(this.#aggregate());
    try {
      return Promise.resolve(this.spec.result(this));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #invoke(entry: ChainEntry): void {
    const core = this.core;
    const hook = this.spec.name;
    const t0 = core.tracing ? core.started(entry, hook) : 0;
    const ctx = new CallContext(entry.name, hook);
    let input = this.value;
    let result: unknown;
    try {
      if (entry.failOpen) input = this.spec.copy(input);
      result = this.spec.invoke(entry.fn, entry.target, ctx, input, this);
    } catch (error) {
      this.#fail(entry, error, t0);
      return;
    }
    if (isThenable(result)) {
      this.#pending = result;
      this.#current = entry;
      this.#ctx = ctx;
      this.#input = input;
      this.#t0 = t0;
      return;
    }
    this.#accept(entry, result, input, t0);
  }

  #accept(entry: ChainEntry, result: unknown, input: unknown, t0: number): void {
    try {
      this.spec.accept(this, result, input, entry);
    } catch (error) {
      this.#fail(entry, error, t0);
      return;
    }
    if (t0) this.core.ended(entry, this.spec.name, t0);
  }

  /** Reports a plugin failure; throws it when it must stop the run. */
  #fail(entry: ChainEntry, error: unknown, t0: number): void {
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

  #continueAsync(): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
      const signal = this.signal;
      if (signal) {
        if (signal.aborted) {
          this.#abort();
          return;
        }
        this.#onAbort = () => this.#abort();
        signal.addEventListener("abort", this.#onAbort, { once: true });
      }
      if (this.#pending !== undefined) this.#await();
      else this.#drain();
    });
  }

  #await(): void {
    const seq = ++this.stepSeq;
    const limit = this.#current!.timeoutMs;
    if (limit > 0) this.core.watchdog.watch(this, limit);
    this.#pending!.then(
      (result) => this.#stepDone(seq, result),
      (error: unknown) => this.#stepFailed(seq, error),
    );
  }

  #stepDone(seq: number, result: unknown): void {
    if (seq !== this.stepSeq || this.#settled) return;
    this.#pending = undefined;
    try {
      this.#accept(this.#current!, result, this.#input, this.#t0);
    } catch (error) {
      this.#settle(error);
      return;
    }
    this.#drain();
  }

  #stepFailed(seq: number, error: unknown): void {
    if (seq !== this.stepSeq || this.#settled) return;
    this.#pending = undefined;
    try {
      this.#fail(this.#current!, error, this.#t0);
    } catch (stop) {
      this.#settle(stop);
      return;
    }
    this.#drain();
  }

  #drain(): void {
    const queue = this.#queue;
    if (queue) {
      while (this.#next < queue.length) {
        const entry = queue[this.#next++]!;
        if (!entry.enabled) continue;
        try {
          this.#invoke(entry);
        } catch (error) {
          this.#settle(error);
          return;
        }
        if (this.#pending !== undefined) {
          this.#await();
          return;
        }
      }
    }
    if (this.errors?.length) {
      this.#settle(this.#aggregate());
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

  #aggregate(): AggregateError {
    const errors = this.errors!;
    return new AggregateError(
      errors,
      `${errors.length} plugin${errors.length === 1 ? "" : "s"} failed in ${this.spec.name}: ${errors.map((e) => e.message).join("; ")}`,
    );
  }

  /** Called by the watchdog when the current async step has exceeded its limit. */
  timeOut(): void {
    const entry = this.#current!;
    const error = new PluginTimeoutError(entry.name, this.spec.name, entry.timeoutMs);
    this.#ctx?.abort(error);
    this.stepSeq++;
    this.#pending = undefined;
    try {
      this.#fail(entry, error, this.#t0);
    } catch (stop) {
      this.#settle(stop);
      return;
    }
    this.#drain();
  }

  #abort(): void {
    const reason: unknown = this.signal!.reason;
    const entry = this.#current;
    this.#ctx?.abort(reason);
    this.stepSeq++;
    this.#pending = undefined;
    this.#settle(entry ? new PluginAbortedError(entry.name, this.spec.name, reason) : reason);
  }

  #settle(error: unknown, value?: unknown, ok = false): void {
    if (this.#settled) return;
    this.#settled = true;
    this.core.watchdog.unwatch(this);
    if (this.#onAbort) this.signal!.removeEventListener("abort", this.#onAbort);
    if (ok) this.#resolve!(value);
    else this.#reject!(error);
  }
}
