/**
 * Builds one hook point's call sequence as a tapable SyncHook (a SyncBailHook for a bail point, which stops at the
 * first plugin whose visit returns a value): stage = -priority, so tapable's stable stage ordering gives
 * "priority descending, registration order at equal priority".
 */
import { SyncBailHook, SyncHook } from "tapable";
import type { HookPointInfo } from "../plugins/hookPoints.js";
import type { RegisteredPlugin } from "../registry/registry.js";
import type { ChainEntry, HookFunction } from "./chainEntry.js";
import { CallContext } from "./hookContext.js";
import type { Run } from "./run.js";

/** A hook point's compiled call sequence. */
export interface Chain {
  /** Calls every tapped plugin's visit, in order. */
  readonly call: (run: Run) => void;
  /** Every plugin implementing the hook, in call order, disabled ones included. */
  readonly entries: readonly ChainEntry[];
  /** The enabled plugins, in call order: `call` visits exactly these. */
  readonly enabled: readonly ChainEntry[];
  /** Whether any entry is enabled: when none is, host calls return their input at once. */
  readonly live: boolean;
}

/** What a chain needs to know about its host. */
export interface ChainOptions {
  /** The host's default time limit. */
  readonly timeoutMs: number;
  /** Whether the host has disabled a plugin. */
  readonly isDisabled: (name: string) => boolean;
}

/** Builds the chain of `point` over `plugins` (in registration order). */
export function buildChain(point: HookPointInfo, plugins: readonly RegisteredPlugin[], options: ChainOptions): Chain {
  // `order` holds every plugin (disabled ones keep their place in explain()); `calls` only those that run.
  const order = new SyncHook<[Run], void, { entry: ChainEntry }>(["run"], point.name);
  const calls =
    point.kind === "bail"
      ? new SyncBailHook<[Run], true | undefined, { entry: ChainEntry }>(["run"], point.name)
      : new SyncHook<[Run], void, { entry: ChainEntry }>(["run"], point.name);
  // reverse order: the plugins in reverse registration order at stage = +priority is exactly the mirror image
  const reverse = point.order === "reverse";
  for (const plugin of reverse ? [...plugins].reverse() : plugins) {
    const fn = plugin.methods.get(point.method);
    if (plugin.type !== point.type || !fn) continue;
    const entry: ChainEntry = {
      name: plugin.name,
      priority: plugin.priority,
      fn: fn as HookFunction,
      target: plugin.plugin,
      timeoutMs: plugin.timeoutMs ?? options.timeoutMs,
      failOpen: plugin.failPolicy === "fail-open",
      enabled: !options.isDisabled(plugin.name),
      pos: -1,
      plugin,
      ctx: new CallContext(plugin.name, point.name),
    };
    const tap = { name: plugin.name, stage: reverse ? plugin.priority : -plugin.priority, entry };
    order.tap(tap, () => {});
    if (entry.enabled) calls.tap(tap, (run) => run.visit(entry));
  }
  const entries = (order.taps as unknown as { entry: ChainEntry }[]).map((tap) => tap.entry);
  const enabled = (calls.taps as unknown as { entry: ChainEntry }[]).map((tap, i) => {
    tap.entry.pos = i;
    return tap.entry;
  });
  const live = enabled.length > 0;
  return { call: live ? (run) => void calls.call(run) : () => {}, entries, enabled, live };
}
