/**
 * The engine's clock: monotonic milliseconds, `performance.now()` of the global `performance` (test fake timers
 * replace that object, so it is looked up at each call). Time limits read it once per async step; `Date.now()`
 * costs as much and is not monotonic.
 */

/** The current monotonic time in milliseconds (the time base of every deadline). */
export function now(): number {
  return performance.now();
}
