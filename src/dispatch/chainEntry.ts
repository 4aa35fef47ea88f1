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
   * The spare context the next call takes (undefined while a call holds it: a concurrent call makes a new one).
   * A finished call gives it back when its signal was never read and never aborted (nothing can tell it from a
   * new one); a call that read the signal, timed out or was cancelled keeps it.
   */
  ctx: CallContext | undefined;
}
