/**
 * The shared part of the prestart-early and prestart-late plugins: a ContainerPlugin whose preStart returns one
 * OCI prestart hook running trace-hook.sh (shipped next to this module), which appends the plugin's name to a file.
 */
import { accessSync, constants } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ContainerPlugin, PrestartHook } from "hookplugins";
import { traceHookSource } from "./traceHookSource.js";

/** Absolute path of the shipped hook script, resolved from this module's location. */
export const traceHookScript = join(dirname(fileURLToPath(import.meta.url)), "trace-hook.sh");

/** PATH given to the hook: OCI runtimes run hooks with only the environment the hook entry lists. */
export const hookPathEnv = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The file name, inside the bundle directory, that the hook appends to when no log file is configured. */
export const bundleTraceFile = "prestart.trace";

/** Options of a trace plugin. */
export interface TracePluginOptions {
  /** Plugin name; also the line the hook appends. */
  readonly name: string;
  /** Plugin priority, also used as the hook's priority (the host's network hook is at 0). */
  readonly priority: number;
  /** One line saying what the plugin does. */
  readonly description: string;
  /** The trace file; default: $HOOKPLUGINS_HOOK_LOG of the daemon when preStart runs, else <bundle>/prestart.trace. */
  readonly log?: string;
  /** The hook executable; default: traceHookScript (or its embedded copy when the file is not there). */
  readonly script?: string;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Path and leading arguments that run the trace hook: `script` when given (it must be executable); else the shipped
 * file (`shipped`), or, when the plugin was bundled away from it (e.g. into dist/), `/bin/sh -c <embedded copy>`.
 */
export function traceHookCommand(script?: string, shipped = traceHookScript): { path: string; args: string[] } {
  if (script !== undefined) {
    if (!isExecutable(script)) throw new Error(`prestart hook script ${script} is missing or not executable`);
    return { path: script, args: [] };
  }
  if (isExecutable(shipped)) return { path: shipped, args: [] };
  return { path: "/bin/sh", args: ["-c", traceHookSource, "trace-hook.sh"] };
}

/** The prestart hook a trace plugin returns. */
export function traceHook(options: TracePluginOptions): PrestartHook {
  const command = traceHookCommand(options.script);
  const log = options.log ?? process.env["HOOKPLUGINS_HOOK_LOG"];
  const env = [hookPathEnv];
  if (log) env.push(`HOOKPLUGINS_HOOK_LOG=${log}`);
  return { priority: options.priority, path: command.path, args: [...command.args, options.name], env, timeout: 10 };
}

/** A ContainerPlugin whose preStart asks the runtime to run the trace hook at `options.priority`. */
export function createTracePlugin(options: TracePluginOptions): ContainerPlugin {
  return {
    name: options.name,
    priority: options.priority,
    version: "0.1.0",
    description: options.description,
    author: "hookplugins authors",
    preStart: () => [traceHook(options)],
  };
}
