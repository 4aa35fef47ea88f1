/**
 * What a hook point tells a run: how to call a plugin, how to fold its result in, how a fail-open plugin's value
 * is copied and restored, and what the host call resolves with. The hook points' own specs are in hookSpecs.ts.
 */
import type { PluginHookError } from "../errors.js";
import type { DispatchKind, HookName } from "../plugins/hookPoints.js";
import type { ChainEntry, HookFunction } from "./chainEntry.js";
import type { CallContext } from "./hookContext.js";

/** What a hook point's spec reads and writes of the run it serves. */
export interface RunValues {
  /** The value flowing through a waterfall (the accumulator of preStart). */
  value: unknown;
  /** First extra argument of the hook point. */
  readonly a: unknown;
  /** Second extra argument of the hook point. */
  readonly b: unknown;
  /** Per-kind accumulator (started daemon plugins, the stream composer). */
  acc: unknown;
  /** The spec the run follows (an audited call's wrapper, not the plain spec). */
  readonly spec: HookSpec;
  /** The failures of fail-closed plugins a "collect" or "report" run gathered, in call order. */
  readonly errors: readonly PluginHookError[] | undefined;
}

/** How one hook point calls a plugin and folds its result into the run. */
export interface HookSpec {
  /** The hook point. */
  readonly name: HookName;
  /** How the host runs it (published with every call on the TracingChannel). */
  readonly kind: DispatchKind;
  /** Whether a call with no plugin to run resolves with its input value (waterfalls) rather than nothing. */
  readonly returnsValue: boolean;
  /** Calls the plugin method with the hook point's arguments; `input` is the value flowing through the chain. */
  invoke(fn: HookFunction, target: object, ctx: CallContext, input: unknown, run: RunValues): unknown;
  /** Folds a plugin's result into the run; throws a TypeError saying what a valid result is. */
  accept(run: RunValues, result: unknown, input: unknown, entry: ChainEntry): void;
  /** Bail points only: whether the run has its answer (checked after each accepted result); no later plugin is called then. */
  done?(run: RunValues): boolean;
  /** The value a fail-open plugin works on, so that its failure leaves the run's value untouched. */
  copy(value: unknown): unknown;
  /** Fail-open only: records, before the call, what undoing a failed call needs. */
  snapshot?(input: unknown): unknown;
  /** Fail-open only: undoes what a failed call started (`snapshot` is what snapshot returned); never throws. */
  restore?(run: RunValues, input: unknown, snapshot: unknown, error: PluginHookError): void;
  /** What the host call resolves with. */
  result(run: RunValues): unknown;
}
