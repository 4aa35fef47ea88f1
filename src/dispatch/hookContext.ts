/**
 * The HookContext object handed to each plugin call; its AbortSignal is created only when a plugin reads it.
 */
import type { HookName } from "../plugins/hookPoints.js";
import type { HookContext } from "../plugins/context.js";
import { abortListenerKey, type AbortListenable } from "../plugins/registeredSymbols.js";

const notAborted: unique symbol = Symbol("not aborted");

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
