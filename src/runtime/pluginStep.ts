/**
 * The plugin step: what the wrapper runs in node before the real runtime's `create` or `run`. It checks that every
 * file it trusts is root's alone, reads `<bundle>/config.json`, gets the container's prestart hooks (the proxy's
 * hand-off for this container when there is one, else the compiled-in plugins' `ContainerPlugin.preStart` on a
 * container object built from the spec), adds them around the spec's own prestart hooks and writes config.json back
 * atomically. Any failure is written in the runtime's log format to its `--log` file and stderr, and the step exits 1:
 * the script then does not call the real runtime. It never calls the real runtime itself.
 */
import { resolve } from "node:path";
import { createHost, type PrestartHook } from "hookplugins";
import { readBundleConfig, writeBundleConfig } from "./bundleConfig.js";
import { containerFromSpec } from "./containerFromSpec.js";
import { HandoffError, handoffPath, sweepHandoffs, takeHandoff, type PrestartHandoff } from "./handoff.js";
import { creatingCommands, parseRuntimeArgs, type RuntimeInvocation } from "./runtimeArgs.js";
import { processLogSinks, reportToRuntimeLog, type RuntimeLogSinks } from "./runtimeLog.js";
import { addPrestartHooks } from "./specHooks.js";
import { checkTrustedPath, checkTrustedPlace } from "./trustedPaths.js";
import { trustedPathsOf, type WrapperConfig } from "./wrapperConfig.js";

/** The plugin step did not finish within the wrapper's limit; `plugin` and `hook` name the plugin call still running, if any. */
export class PluginStepTimeoutError extends Error {
  override name = "PluginStepTimeoutError";
  /** The limit, in ms. */
  readonly timeoutMs: number;
  /** The plugin whose call was still running, or undefined when the step was elsewhere. */
  readonly plugin: string | undefined;
  /** That call's hook point, e.g. "ContainerPlugin.preStart". */
  readonly hook: string | undefined;

  /** Creates the error for a limit of `timeoutMs`; `doing` says what was still running. */
  constructor(timeoutMs: number, doing: StepProgress) {
    const where = doing.plugin === undefined ? `the step was still ${doing.now}` : `plugin "${doing.plugin}" did not finish ${doing.hook} in time`;
    super(`the plugin step did not finish within ${timeoutMs} ms (${where}); the container was not created. Make the plugin faster, or install the wrapper with a longer --timeout`);
    this.timeoutMs = timeoutMs;
    this.plugin = doing.plugin;
    this.hook = doing.hook;
  }
}

/** Where a plugin step is, for the message of a step that ran out of time. */
export interface StepProgress {
  /** What it is doing ("reading the bundle", ...). */
  now: string;
  /** The plugin whose call is running, if any. */
  plugin?: string | undefined;
  /** That call's hook point. */
  hook?: string | undefined;
}

/** The command line is not one the wrapper can create a container from. */
export class RuntimeArgsError extends Error {
  override name = "RuntimeArgsError";
}

/** The container's hand-off, if any (an id that cannot name a hand-off file has none). */
async function handoffOf(dir: string, id: string): Promise<PrestartHandoff | undefined> {
  try {
    handoffPath(dir, id);
  } catch (error) {
    if (error instanceof HandoffError) return undefined;
    throw error;
  }
  return takeHandoff(dir, id);
}

/** Checks every file and folder whose content decides what runs as root. */
async function checkTrusted(config: WrapperConfig): Promise<void> {
  for (const { what, path, place } of trustedPathsOf(config)) await (place ? checkTrustedPlace : checkTrustedPath)(what, path);
}

async function step(config: WrapperConfig, invocation: RuntimeInvocation, doing: StepProgress): Promise<void> {
  doing.now = "checking the wrapper's files";
  await checkTrusted(config);
  const { id } = invocation;
  if (id === undefined || id === "") throw new RuntimeArgsError(`\`${invocation.command}\` was given no container id`);
  const bundle = resolve(invocation.bundle ?? process.cwd());
  doing.now = "reading the bundle";
  const bundleConfig = await readBundleConfig(bundle);
  doing.now = "taking the hand-off";
  const handoff = await handoffOf(config.handoffDir, id);
  await sweepHandoffs(config.handoffDir, config.handoffMaxAgeMs).catch(() => []);
  let hooks: readonly PrestartHook[];
  if (handoff !== undefined) {
    hooks = handoff.hooks;
  } else {
    doing.now = "running ContainerPlugin.preStart";
    const host = createHost({ stateFile: config.stateFile, timeoutMs: config.timeoutMs });
    host.events.on("hookStart", ({ plugin, hook }) => Object.assign(doing, { plugin, hook }));
    const done = (): void => void Object.assign(doing, { plugin: undefined, hook: undefined });
    host.events.on("hookEnd", done);
    host.events.on("hookError", done);
    hooks = await host.container.preStart(containerFromSpec(bundleConfig.spec, id, bundle));
  }
  const { text, added } = addPrestartHooks(bundleConfig.text, hooks);
  if (added.length > 0) {
    doing.now = "writing config.json";
    await writeBundleConfig(bundleConfig, text);
  }
}

/**
 * Runs the plugin step for the runtime arguments `argv` (without the program) and returns the exit status: 0 when
 * the real runtime may run, 1 after an error was reported (in the `--log` format, to the log file and stderr).
 * A command other than `create` and `run` has nothing to do (status 0).
 */
export async function runPluginStep(config: WrapperConfig, argv: readonly string[], sinks: RuntimeLogSinks = processLogSinks): Promise<number> {
  const invocation = parseRuntimeArgs(argv);
  if (invocation.command === undefined || !creatingCommands.includes(invocation.command)) return 0;
  const doing: StepProgress = { now: "starting" };
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PluginStepTimeoutError(config.timeoutMs, doing)), config.timeoutMs);
  });
  try {
    await Promise.race([step(config, invocation, doing), limit]);
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const at = invocation.id === undefined ? "" : ` (container ${invocation.id})`;
    reportToRuntimeLog(invocation.globals, "error", `hookplugins runtime wrapper${at}: ${message}`, sinks);
    return 1;
  } finally {
    clearTimeout(timer);
  }
}

/** The bundle's main: runs the step for this process's arguments and exits with its status (plugins may hold handles). */
export async function pluginStepMain(config: WrapperConfig): Promise<never> {
  process.exit(await runPluginStep(config, process.argv.slice(2)));
}
