/**
 * One plugin's place in one hook point's call sequence.
 */
import type { RegisteredPlugin } from "../registry/registry.js";
import type { CallContext } from "./hookContext.js";

/** A hook method as the engine calls it. */
export type HookFunction = (this: unknown, ...args: unknown[]) => unknown;

/** A plugin's method at one hook point, with everything the engine needs to call it. */
export interface ChainEntry {
  /** Plugin name. */
  readonly name: string;
  /** Plugin priority. */
  readonly priority: number;
  /** The hook method. */
  readonly fn: HookFunction;
  /** The plugin object (`this` in the method). */
  readonly target: object;
  /** Effective time limit in ms (plugin's, else the host's); 0: none. */
  readonly timeoutMs: number;
  /** Whether a failure skips the plugin instead of failing the operation. */
  readonly failOpen: boolean;
  /** False when the host has disabled the plugin. */
  readonly enabled: boolean;
  /** Position among the chain's enabled plugins (where a run goes on after this plugin's async step). */
  pos: number;
  /** The registry record. */
  readonly plugin: RegisteredPlugin;
  /**
   * The context the next call gets. A synchronous call that does not read `ctx.signal` leaves it unchanged
   * (nothing can tell it was reused); a call that goes async or reads the signal keeps it, and the entry gets a new one.
   */
  ctx: CallContext;
}
