/**
 * The quickstart's trace: records which plugins a host ran (from its hookStart/hookEnd/hookError events)
 * and prints each hook point's planned order (from host.explain()) and what actually ran.
 */
import type { HookName, Host } from "hookplugins";

/** One plugin call seen through the host's events. */
export interface TracedCall {
  /** Plugin name. */
  readonly plugin: string;
  /** Hook point. */
  readonly hook: HookName;
  /** "ok", or "failed (<fail policy>)". */
  readonly outcome: string;
  /** Wall time in ms, when known. */
  readonly durationMs: number | undefined;
}

/** Collects the calls a host makes between two take() calls. */
export class CallTrace {
  #calls: TracedCall[] = [];

  /** Subscribes to `host`'s events. */
  constructor(host: Host) {
    host.events.on("hookEnd", (e) => this.#calls.push({ plugin: e.plugin, hook: e.hook, outcome: "ok", durationMs: e.durationMs }));
    host.events.on("hookError", (e) =>
      this.#calls.push({ plugin: e.plugin, hook: e.hook, outcome: `failed (${e.failPolicy})`, durationMs: e.durationMs }),
    );
  }

  /** The calls recorded since the last take(), in the order they finished. */
  take(): TracedCall[] {
    const calls = this.#calls;
    this.#calls = [];
    return calls;
  }
}

/** "envlimits[0] -> prestart-late[-5]" for `hook`, from host.explain(). */
export function plannedOrder(host: Host, hook: HookName): string {
  const entries = host.explain()[hook];
  if (entries.length === 0) return "(no plugin implements it)";
  return entries.map((e) => `${e.plugin}[${e.priority}]${e.enabled ? "" : " (disabled)"}`).join(" -> ");
}

/** "helperprocess ok 41.2ms, ..." for `calls`. */
export function ranSummary(calls: readonly TracedCall[]): string {
  if (calls.length === 0) return "nothing (no plugin to run)";
  return calls
    .map((c) => `${c.plugin} ${c.outcome}${c.durationMs === undefined ? "" : ` ${c.durationMs.toFixed(1)}ms`}`)
    .join(", ");
}
