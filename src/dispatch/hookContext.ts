/**
 * The HookContext object handed to each plugin call; its AbortSignal is created only when a plugin reads it.
 */
import type { HookName } from "../plugins/hookPoints.js";
import type { HookContext } from "../plugins/context.js";

/** One plugin call's context. */
export class CallContext implements HookContext {
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;

  /** Creates the context of `plugin` running `hook`. */
  constructor(
    readonly plugin: string,
    readonly hook: HookName,
  ) {}

  /** Aborted when this call times out or the host's caller cancels the operation. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Aborts this call's signal (now, or when the plugin first reads it). */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}
