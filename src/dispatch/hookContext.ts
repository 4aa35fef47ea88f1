/**
 * The HookContext object handed to each plugin call; its AbortSignal is created only when a plugin reads it.
 */
import type { HookName } from "../plugins/hookPoints.js";
import type { HookContext } from "../plugins/context.js";

const notAborted: unique symbol = Symbol("not aborted");

/**
 * Internal: `ctx[abortListenerKey](fn)` sets the one function told (with the reason) when this call is aborted, or
 * clears it (undefined); it returns true, without keeping `fn`, when the call is already aborted. The external
 * plugin client hears timeouts and cancels this way without making an AbortSignal per call. A registered symbol, so
 * that `hookplugins/external` (its own bundle) and the library entry agree on it.
 */
export const abortListenerKey: unique symbol = Symbol.for("hookplugins.abortListener");

/** A call's context that can be listened to for aborts without an AbortSignal (a host's CallContext). */
export interface AbortListenable {
  /** Its signal (made on first read). */
  readonly signal: AbortSignal;
  /** Sets (or clears) the abort listener; true when the call is already aborted. */
  [abortListenerKey](listener: ((reason: unknown) => void) | undefined): boolean;
}

/** One plugin call's context. */
export class CallContext implements HookContext, AbortListenable {
  private controller: AbortController | undefined = undefined;
  private reason: unknown = notAborted;
  private listener: ((reason: unknown) => void) | undefined = undefined;
  private listened = false;

  /** Creates the context of `plugin` running `hook`. */
  constructor(
    readonly plugin: string,
    readonly hook: HookName,
  ) {}

  /** Aborted when this call times out or the host's caller cancels the operation. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason !== notAborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /**
   * Whether nothing can tell this context from a new one: its signal was never read, no abort listener was set, and
   * it was never aborted (then its plugin's next call may reuse it).
   */
  get reusable(): boolean {
    return this.controller === undefined && !this.listened && this.reason === notAborted;
  }

  /** Sets (or clears) the one abort listener; true, without keeping it, when already aborted. */
  [abortListenerKey](listener: ((reason: unknown) => void) | undefined): boolean {
    if (this.reason !== notAborted) return true;
    this.listened = true;
    this.listener = listener;
    return false;
  }

  /** Aborts this call's signal (now, or when the plugin first reads it). */
  abort(reason: unknown): void {
    if (this.reason !== notAborted) return;
    this.reason = reason;
    this.controller?.abort(reason);
    const listener = this.listener;
    if (listener !== undefined) {
      this.listener = undefined;
      listener(reason);
    }
  }
}
