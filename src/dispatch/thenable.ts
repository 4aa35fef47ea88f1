/**
 * Whether a plugin's result is a promise (or any thenable): then the run awaits it as an async step.
 */

/** Whether `value` is a Promise or an object or function with a `then` method. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value instanceof Promise ||
    (value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function")
  );
}
