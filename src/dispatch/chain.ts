/**
 * Builds one hook point's call sequence as a tapable SyncHook: stage = -priority, so tapable's stable
 * stage ordering gives "priority descending, registration order at equal priority".
 */
import { SyncHook } from "tapable";
import type { HookPointInfo } from "../plugins/hookPoints.js";
import type { RegisteredPlugin } from "../registry/registry.js";
import type { ChainEntry, HookFunction } from "./chainEntry.js";
import type { Run } from "./run.js";

/** A hook point's compiled call sequence. */
export interface Chain {
  /** Calls every tapped plugin's visit, in order. */
  readonly call: (run: Run) => void;
  /** Every plugin implementing the hook, in call order, disabled ones included. */
  readonly entries: readonly ChainEntry[];
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
  const hook = new SyncHook<[Run], void, { entry: ChainEntry }>(["run"], point.name);
  for (const plugin of plugins) {
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
      plugin,
    };
    hook.tap({ name: plugin.name, stage: -plugin.priority, entry }, (run) => run.visit(entry));
  }
  const entries = (hook.taps as unknown as { entry: ChainEntry }[]).map((tap) => tap.entry);
  return {
    call: entries.length ? (run) => hook.call(run) : () => {},
    entries,
    live: entries.some((entry) => entry.enabled),
  };
}
