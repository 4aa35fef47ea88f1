/**
 * One plugin's call in a run: a plain result is folded into the run at once, a promise becomes the run's pending
 * step (with its deadline), a failure is wrapped as the plugin's PluginHookError and reported, and a fail-open
 * plugin works on a copy that its failure leaves behind. What happens next (the next plugin, awaiting the step,
 * settling the caller's promise) is Run's. Plain functions of the run (see runEvents.ts for why).
 */
import type { PluginHookError } from "../errors.js";
import type { ChainEntry } from "./chainEntry.js";
import { CallContext } from "./hookContext.js";
import type { Run } from "./run.js";
import { endTime, flushEvents, reportCall } from "./runEvents.js";
import { hookErrorOf } from "./runFailures.js";
import { isThenable } from "./thenable.js";
import { HookCall, invokePublished, publishError, publishResult, publishWentAsync } from "./tracing.js";

/** Gives a finished call's context back to its entry for the next call, unless the plugin read its signal or it was aborted. */
function release(entry: ChainEntry, ctx: CallContext): void {
  if (ctx.reusable) entry.ctx = ctx;
}

/** Calls one plugin; a promise result becomes the pending step. Throws when a failure must stop the run. */
export function invokePlugin(run: Run, entry: ChainEntry): void {
  const spec = run.spec;
  // a clock reading taken since the last plugin ran is this plugin's start (-1: none yet)
  let start = run.fresh ? run.clock : -1;
  run.fresh = false;
  run.current = entry;
  // the entry's spare context, or a new one while another call of this plugin holds it
  const ctx = entry.ctx ?? new CallContext(entry.name, spec.name);
  entry.ctx = undefined;
  let input = run.value;
  let snapshot: unknown;
  let message: HookCall | undefined;
  let result: unknown;
  // the deadline's base: `start` only when nothing ran between that reading and the call (-1: read when the
  // plugin's promise comes back, which can only make the limit later, never earlier)
  let base = start;
  try {
    if (run.timed) {
      if (start < 0) start = run.core.now();
      run.startedAt = start;
      if (run.core.onStart) {
        flushEvents(run);
        run.core.emitStart({ plugin: entry.name, hook: spec.name });
        base = -1;
      } else base = start;
    }
    if (entry.failOpen) {
      base = -1;
      input = spec.copy(input);
      if (spec.snapshot !== undefined) snapshot = spec.snapshot(input);
    }
    if (run.publish) {
      message = new HookCall(spec.name, spec.kind, entry);
      result = invokePublished(message, spec, entry.fn, entry.target, ctx, input, run);
    } else {
      result = spec.invoke(entry.fn, entry.target, ctx, input, run);
    }
  } catch (error) {
    release(entry, ctx);
    failPlugin(run, entry, error, message, false, input, snapshot);
    return;
  }
  if (isThenable(result)) {
    // this call keeps its context for good: a plugin may hold it, and read its signal, after the call settled
    run.pending = result;
    run.stepCtx = ctx;
    run.stepInput = input;
    run.stepSnapshot = snapshot;
    run.stepMessage = message;
    if (message !== undefined) publishWentAsync(message);
    const limit = entry.timeoutMs;
    run.deadline = limit > 0 ? (base < 0 ? run.core.now() : base) + limit : Infinity;
    return;
  }
  release(entry, ctx);
  acceptResult(run, entry, result, input, message, false, snapshot);
}

/** Folds a plugin's result into the run (a bad result is that plugin's failure); `async`: it came from a promise. */
export function acceptResult(run: Run, entry: ChainEntry, result: unknown, input: unknown, message: HookCall | undefined, async: boolean, snapshot: unknown): void {
  try {
    run.spec.accept(run, result, input, entry);
  } catch (error) {
    failPlugin(run, entry, error, message, async, input, snapshot);
    return;
  }
  if (message !== undefined) {
    publishResult(message, result, async);
    run.fresh = false; // subscribers ran: the reading is no longer the next plugin's start
  }
  if (run.timed && run.core.onEnd) reportCall(run, entry, undefined, endTime(run) - run.startedAt);
}

/** Reports a plugin failure and undoes what a fail-open plugin started; throws it when it must stop the run. */
export function failPlugin(run: Run, entry: ChainEntry, error: unknown, message: HookCall | undefined, async: boolean, input: unknown, snapshot: unknown): void {
  const wrapped = hookErrorOf(entry.name, run.spec.name, error);
  reportFailure(run, entry, wrapped, message, async);
  if (entry.failOpen) {
    if (run.spec.restore !== undefined) run.spec.restore(run, input, snapshot, wrapped);
    run.fresh = false; // events and the restore ran after the reading
    return;
  }
  if (run.mode !== "stop") {
    (run.errors ??= []).push(wrapped);
    return;
  }
  throw wrapped;
}

/** Publishes and emits a failed call. */
export function reportFailure(run: Run, entry: ChainEntry, error: PluginHookError, message: HookCall | undefined, async: boolean): void {
  if (message !== undefined) publishError(message, error, async);
  if (run.timed && run.core.onError) reportCall(run, entry, error, endTime(run) - run.startedAt);
}
