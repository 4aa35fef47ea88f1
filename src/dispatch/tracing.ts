/**
 * Publishing plugin hook calls on the `hookplugins:hook` TracingChannel of node:diagnostics_channel. A run creates
 * one message (HookCall) per plugin call only while the channel has subscribers. (The host's hookStart/hookEnd/
 * hookError events are emitted by the run itself, through HostCore.)
 */
import { tracingChannel, type TracingChannel } from "node:diagnostics_channel";
import type { PluginHookError } from "../errors.js";
import type { DispatchKind, HookName } from "../plugins/hookPoints.js";
import type { FailPolicy, PluginType } from "../plugins/interfaces.js";
import type { ChainEntry, HookFunction } from "./chainEntry.js";
import type { CallContext } from "./hookContext.js";
import type { RunValues } from "./hookSpec.js";

/** The name of the TracingChannel every hook call is published on (channels `tracing:hookplugins:hook:start`, ...). */
export const hookTracingChannelName = "hookplugins:hook";

/** The message of one plugin hook call, the same object on every channel of the call. */
export interface HookTraceMessage {
  /** Plugin name. */
  readonly plugin: string;
  /** Hook point, e.g. "ContainerPlugin.preCreate". */
  readonly hook: HookName;
  /** The plugin interface of the hook point. */
  readonly pluginType: PluginType;
  /** How the host runs the hook point: waterfall, series, collect, stream, lifecycle, observe, bail. */
  readonly kind: DispatchKind;
  /** The plugin's failure policy. */
  readonly failPolicy: FailPolicy;
  /** The call's time limit in ms (0: none). */
  readonly timeoutMs: number;
  /** What the plugin returned or resolved with (set before `end` for a sync call, before `asyncStart` for an async one). */
  result: unknown;
  /** The failure, naming plugin and hook (set before `error` is published). */
  error: PluginHookError | undefined;
}

/** The hookplugins TracingChannel (`diagnostics_channel.tracingChannel("hookplugins:hook")`). */
export const hookTracingChannel: TracingChannel<unknown, HookTraceMessage> = tracingChannel<unknown, HookTraceMessage>(hookTracingChannelName);

const tc = hookTracingChannel;

/** Whether anything subscribes to the hookplugins TracingChannel (checked once per host call). */
export const channelActive: () => boolean =
  typeof (tc as { hasSubscribers?: unknown }).hasSubscribers === "boolean"
    ? () => tc.hasSubscribers
    : () => tc.start.hasSubscribers || tc.end.hasSubscribers || tc.asyncStart.hasSubscribers || tc.asyncEnd.hasSubscribers || tc.error.hasSubscribers;

/** Whether stores are bound to `channel` (Node keeps them in `_stores`; when it cannot be read, assume so). */
function hasStores(channel: object): boolean {
  const stores = (channel as { _stores?: { size?: unknown } })._stores;
  return !(stores === undefined || stores.size === 0);
}

/** How a hook point calls a plugin (HookSpec.invoke). */
interface InvokeSpec {
  invoke(fn: HookFunction, target: object, ctx: CallContext, input: unknown, run: RunValues): unknown;
}

/** The message of one published plugin call: plain data, own fields only. */
export class HookCall implements HookTraceMessage {
  result: unknown = undefined;
  error: PluginHookError | undefined = undefined;
  readonly plugin: string;
  readonly pluginType: PluginType;
  readonly failPolicy: FailPolicy;
  readonly timeoutMs: number;

  /** The message of a call of `entry` at hook point `hook`. */
  constructor(
    readonly hook: HookName,
    readonly kind: DispatchKind,
    entry: ChainEntry,
  ) {
    this.plugin = entry.name;
    this.pluginType = entry.plugin.type;
    this.failPolicy = entry.failOpen ? "fail-open" : "fail-closed";
    this.timeoutMs = entry.timeoutMs;
  }
}

/** Publishes `start` and calls the plugin, inside the stores bound to the start channel if there are any. */
export function invokePublished(message: HookCall, spec: InvokeSpec, fn: HookFunction, target: object, ctx: CallContext, input: unknown, run: RunValues): unknown {
  const start = tc.start;
  if (!hasStores(start)) {
    // what runStores does when no store is bound, without its closures
    start.publish(message);
    return spec.invoke(fn, target, ctx, input, run);
  }
  return start.runStores(message, spec.invoke, spec, fn, target, ctx, input, run);
}

/** The plugin returned a promise: its synchronous part is over. */
export function publishWentAsync(message: HookCall): void {
  tc.end.publish(message);
}

/** The call succeeded with `result`; `async`: whether it had returned a promise. */
export function publishResult(message: HookCall, result: unknown, async: boolean): void {
  message.result = result;
  publishFinish(message, async);
}

/** The call failed with `error`; `async`: whether it had returned a promise. */
export function publishError(message: HookCall, error: PluginHookError, async: boolean): void {
  message.error = error;
  tc.error.publish(message);
  publishFinish(message, async);
}

function publishFinish(message: HookCall, async: boolean): void {
  if (async) {
    tc.asyncStart.publish(message);
    tc.asyncEnd.publish(message);
  } else {
    tc.end.publish(message);
  }
}
