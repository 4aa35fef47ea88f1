/**
 * The HookContext object handed to each plugin call; its AbortSignal is created only when a plugin reads it.
 */
import type { HookName } from "../plugins/hookPoints.js";
import type { HookContext } from "../plugins/context.js";

const notAborted: unique symbol = Symbol("not aborted");

/** One plugin call's context. */
export class CallContext implements HookContext {
  private controller: AbortController | undefined = undefined;
  private reason: unknown = notAborted;

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

  /** Whether nothing can tell this context from a new one: its signal was never read and it was never aborted. */
  get reusable(): boolean {
    return this.controller === undefined && this.reason === notAborted;
  }

  /** Aborts this call's signal (now, or when the plugin first reads it). */
  abort(reason: unknown): void {
    if (this.reason !== notAborted) return;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}
