/**
 * The project's plugins as the commands that show them load them (`explain`, `plugin list`, `inspect`): a plugin
 * that cannot be loaded is shown with its source and the reason instead of failing the command, and an external
 * plugin that is not there yet is not waited for long.
 */
import { loadProjectPlugins, type PluginLoadFailure, type ProjectPlugins } from "../inclusion/projectPlugins.js";
import type { PluginSource } from "../plugins/source.js";
import type { CommandContext } from "./context.js";
import { table } from "./output.js";

/** How long the showing commands give an external plugin to answer: a short retry, a few seconds per call. */
const viewTimeouts = { retryTotalMs: 1000, retryInitialDelayMs: 100, activationTimeoutMs: 3000 };

/** Loads the project's plugins with failures reported; "locate" reads the in-process plugins' manifests only. */
export function loadProjectView(ctx: CommandContext, inProcess: "load" | "locate"): Promise<ProjectPlugins> {
  return loadProjectPlugins(ctx.root, { onLoadError: "report", inProcess, external: viewTimeouts });
}

/** A plugin that failed to load, as --json shows it. */
export interface FailureJson {
  /** Its name. */
  readonly name: string;
  /** Where it comes from ("module" and the specifier for an in-process plugin). */
  readonly source: PluginSource;
  /** Why it could not be loaded. */
  readonly error: string;
}

/** `failure` as --json shows it. */
export function failureJson(failure: PluginLoadFailure): FailureJson {
  return { name: failure.name, source: failure.source, error: failure.reason };
}

/** Prints the "Failed to load:" section: name, source kind, location and reason of each (nothing when none failed). */
export function printFailures(ctx: CommandContext, failed: readonly PluginLoadFailure[]): void {
  if (failed.length === 0) return;
  ctx.out.line();
  ctx.out.line("Failed to load:");
  for (const line of table(["NAME", "SOURCE", "LOCATION", "REASON"], failed.map((f) => [f.name, f.source.kind, f.source.location, f.reason]))) ctx.out.line(line);
}
