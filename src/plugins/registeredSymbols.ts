/**
 * The registered symbols (`Symbol.for`) that the library entry and `hookplugins/external` share. Each bundle that
 * imports this module gets the same symbols, so a plugin proxy made by one is read by the other.
 */

/** The symbol under which a plugin object carries its PluginSource (external plugin proxies set it). */
export const pluginSourceKey: unique symbol = Symbol.for("hookplugins.pluginSource");

/**
 * Internal: `ctx[abortListenerKey](fn)` sets the one function told (with the reason) when this call is aborted, or
 * clears it (undefined); it returns true, without keeping `fn`, when the call is already aborted. The external
 * plugin client hears timeouts and cancels this way without making an AbortSignal per call.
 */
export const abortListenerKey: unique symbol = Symbol.for("hookplugins.abortListener");

/** A call's context that can be listened to for aborts without an AbortSignal (a host's CallContext). */
export interface AbortListenable {
  /** Its signal (made on first read). */
  readonly signal: AbortSignal;
  /** Sets (or clears) the abort listener; true when the call is already aborted. */
  [abortListenerKey](listener: ((reason: unknown) => void) | undefined): boolean;
}
