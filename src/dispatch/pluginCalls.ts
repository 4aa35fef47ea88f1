/**
 * A run's calls of its plugins, one at a time: a plain result is folded into the run at once, a promise becomes the
 * pending step (with its deadline), a failure is wrapped as the plugin's PluginHookError and reported, and a
 * fail-open plugin works on a copy that its failure leaves behind. What happens next (the next plugin, awaiting
 * the step, settling the caller's promise) is Run's.
 */
import type { PluginHookError } from "../errors.js";
import type { ChainEntry } from "./chainEntry.js";
import { CallContext } from "./hookContext.js";
import type { HookSpec, RunValues } from "./hookSpec.js";
import type { HostCore } from "./hostCore.js";
import { hookErrorOf } from "./runFailures.js";
import { isThenable } from "./thenable.js";
import { TimedRun } from "./timedRun.js";
import { channelActive, HookCall, invokePublished, publishError, publishResult, publishWentAsync } from "./tracing.js";

/** What a run does when a fail-closed plugin fails: stop at once, or go on and report all failures at the end. */
export type FailureMode = "stop" | "collect";

/** Gives a finished call's context back to its entry for the next call, unless the plugin read its signal or it was aborted. */
function release(entry: ChainEntry, ctx: CallContext): void {
  if (ctx.reusable) entry.ctx = ctx;
}

/** The plugin-calling part of a run (Run builds on it). */
export abstract class PluginCalls extends TimedRun implements RunValues {
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
  /** Whether the TracingChannel had subscribers when the call began. */
  readonly publish: boolean;

  // the pending step: its call's context, input, fail-open snapshot and published message
  protected stepCtx: CallContext | undefined = undefined;
  protected stepInput: unknown = undefined;
  protected stepSnapshot: unknown = undefined;
  protected stepMessage: HookCall | undefined = undefined;

  /** Prepares the calls of a run of `spec` for `core`, failing as `mode` says. */
  constructor(
    core: HostCore,
    spec: HookSpec,
    readonly mode: FailureMode,
  ) {
    super(core, spec);
    this.publish = channelActive();
  }

  /** Calls one plugin; a promise result becomes the pending step. Throws when a failure must stop the run. */
  invoke(entry: ChainEntry): void {
    const spec = this.spec;
    // a clock reading taken since the last plugin ran is this plugin's start (-1: none yet)
    let start = this.fresh ? this.clock : -1;
    this.fresh = false;
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
        this.startedAt = start;
        if (this.core.onStart) {
          this.flush();
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
      this.stepCtx = ctx;
      this.stepInput = input;
      this.stepSnapshot = snapshot;
      this.stepMessage = message;
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
      this.fresh = false; // subscribers ran: the reading is no longer the next plugin's start
    }
    if (this.timed && this.core.onEnd) this.report(entry, undefined, this.endTime() - this.startedAt);
  }

  /** Reports a plugin failure and undoes what a fail-open plugin started; throws it when it must stop the run. */
  fail(entry: ChainEntry, error: unknown, message: HookCall | undefined, async: boolean, input: unknown, snapshot: unknown): void {
    const wrapped = hookErrorOf(entry.name, this.spec.name, error);
    this.failed(entry, wrapped, message, async);
    if (entry.failOpen) {
      if (this.spec.restore !== undefined) this.spec.restore(this, input, snapshot, wrapped);
      this.fresh = false; // events and the restore ran after the reading
      return;
    }
    if (this.mode === "collect") {
      (this.errors ??= []).push(wrapped);
      return;
    }
    throw wrapped;
  }

  /** Publishes and emits a failed call. */
  protected failed(entry: ChainEntry, error: PluginHookError, message: HookCall | undefined, async: boolean): void {
    if (message !== undefined) publishError(message, error, async);
    if (this.timed && this.core.onError) this.report(entry, error, this.endTime() - this.startedAt);
  }
}
