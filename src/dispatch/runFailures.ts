/**
 * The errors a run fails with: a plugin's failure as a PluginHookError naming plugin and hook, and the
 * AggregateError of the failures a "collect" run gathered.
 */
import { PluginHookError } from "../errors.js";
import type { HookName } from "../plugins/hookPoints.js";

/** `error` as the PluginHookError of `plugin` at `hook`: itself when it already is one, else wrapped (its `cause`). */
export function hookErrorOf(plugin: string, hook: HookName, error: unknown): PluginHookError {
  return error instanceof PluginHookError && error.plugin === plugin && error.hook === hook ? error : new PluginHookError(plugin, hook, error);
}

/** The error of a "collect" run whose plugins failed: every failure, in call order, and their messages. */
export function collectedFailures(hook: HookName, errors: readonly PluginHookError[]): AggregateError {
  return new AggregateError(errors, `${errors.length} plugin${errors.length === 1 ? "" : "s"} failed in ${hook}: ${errors.map((e) => e.message).join("; ")}`);
}
