/**
 * The engine's clock: monotonic milliseconds, `performance.now()`.
 *
 * Time limits read it once per async step, so its cost shows: reading the `performance` global runs Node's lazy
 * getter on every access, which costs about as much as the reading itself. A host therefore binds the clock of
 * the global `performance` once, when it is created (test fake timers installed before a host is created drive it).
 * `Date.now()` costs as much and is not monotonic.
 */

/** A monotonic clock in milliseconds. */
export type Clock = () => number;

/** The clock of the global `performance` as it is now, bound once. */
export function currentClock(): Clock {
  const perf = globalThis.performance;
  return perf.now.bind(perf);
}
