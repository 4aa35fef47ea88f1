/**
 * How each hook point calls a plugin and what a valid result is.
 */
import type { Readable } from "node:stream";
import { hookPoints, type DispatchKind, type HookName } from "../plugins/hookPoints.js";
import type { PluginHookError } from "../errors.js";
import type { CliCommandSpec, HandlerSpec, PrestartHook } from "../plugins/interfaces.js";
import type { ChainEntry } from "./chainEntry.js";
import { checkCommands, commandsBefore, type CommandsBefore } from "./cliCommands.js";
import { copyData } from "./copyData.js";
import { checkPrestartList } from "./prestartHooks.js";
import { checkResolvedImage } from "./resolvedImage.js";
import { restoreStream, snapshotStream } from "./streamDetach.js";
import type { HookSpec, RunValues } from "./hookSpec.js";
import { StreamComposer } from "./streamComposer.js";

function show(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  if (typeof value === "object" || typeof value === "function") return `a ${typeof value}`;
  return `${typeof value} ${String(value)}`;
}

function cloneData(value: unknown): unknown {
  try {
    return copyData(value);
  } catch (error) {
    throw new TypeError(
      `cannot copy the value for this fail-open plugin (${(error as Error).message}); keep the value structured-cloneable or make the plugin fail-closed`,
    );
  }
}

const kindOf = (name: HookName): DispatchKind => hookPoints.find((point) => point.name === name)!.kind;

const same = (value: unknown): unknown => value;
const valueOf = (run: RunValues): unknown => run.value;
const nothing = (): undefined => undefined;

/** A waterfall over a plain-data object: mutate in place or return a replacement object. */
function objectWaterfall(name: HookName, what: string, invoke: HookSpec["invoke"]): HookSpec {
  return {
    name,
    kind: kindOf(name),
    returnsValue: true,
    invoke,
    accept(run, result, input) {
      if (result === undefined) {
        run.value = input;
        return;
      }
      if (typeof result !== "object" || result === null || Array.isArray(result)) {
        throw new TypeError(`returned ${show(result)}; return the ${what} (mutated or replaced) or nothing`);
      }
      run.value = result;
    },
    copy: cloneData,
    result: valueOf,
  };
}

/** A hook whose plugins are notified and return nothing. */
function notification(name: HookName, invoke: HookSpec["invoke"]): HookSpec {
  return { name, kind: kindOf(name), returnsValue: false, invoke, accept: nothing, copy: same, result: nothing };
}

const noFailures: readonly PluginHookError[] = Object.freeze([]);

/** An observer: every plugin gets the same arguments and runs; its result is ignored; the run resolves with the failures. */
function observer(name: HookName, invoke: HookSpec["invoke"]): HookSpec {
  return { name, kind: kindOf(name), returnsValue: false, invoke, accept: nothing, copy: same, result: (run) => ({ failures: run.errors ?? noFailures }) };
}

/** What a resolveImage run settles with: the provider that answered and its image. */
interface Answer {
  readonly plugin: string;
  readonly image: unknown;
}

function checkHandlers(result: unknown): HandlerSpec<unknown>[] {
  if (!Array.isArray(result)) throw new TypeError(`returned ${show(result)}; return the array of handler specs or nothing`);
  result.forEach((spec: unknown, i) => {
    const s = spec as Partial<HandlerSpec<unknown>> | null;
    if (typeof s !== "object" || s === null || typeof s.method !== "string" || s.method === "" || typeof s.path !== "string" || !s.path.startsWith("/") || s.handler === undefined) {
      throw new TypeError(`handler spec #${i} must be { method: "GET"|"POST"|..., path: "/...", handler }, got ${JSON.stringify(spec, (_k, v: unknown) => (typeof v === "function" ? "[function]" : v))}`);
    }
  });
  return result as HandlerSpec<unknown>[];
}

function isReadable(value: unknown): value is Readable {
  const v = value as Partial<Readable> | null;
  return typeof v === "object" && v !== null && typeof v.pipe === "function" && typeof v.read === "function" && typeof v.on === "function";
}

/** The value of a ContainerPlugin.preStart run: the hooks every plugin returned, in plugin order. */
export type PrestartAccumulator = PrestartHook[];

/** The spec of every hook point but the daemon's. */
export const hookSpecs = {
  preCreate: objectWaterfall("ContainerPlugin.preCreate", "container create config", (fn, target, ctx, input) =>
    fn.call(target, ctx, input),
  ),
  preCreateEndpoint: objectWaterfall("ContainerPlugin.preCreateEndpoint", "endpoint", (fn, target, ctx, input, run) =>
    fn.call(target, ctx, run.a, run.b, input),
  ),
  preVolumeCreate: objectWaterfall("VolumePlugin.preVolumeCreate", "volume create config", (fn, target, ctx, input) =>
    fn.call(target, ctx, input),
  ),
  preCreateContainer: objectWaterfall("CriPlugin.preCreateContainer", "container create config", (fn, target, ctx, input, run) =>
    fn.call(target, ctx, input, run.a),
  ),
  updateHandler: {
    name: "APIPlugin.updateHandler",
    kind: kindOf("APIPlugin.updateHandler"),
    returnsValue: true,
    invoke: (fn, target, ctx, input) => fn.call(target, ctx, input),
    accept(run, result, input) {
      run.value = checkHandlers(result === undefined ? input : result);
    },
    copy: (value) => (value as HandlerSpec<unknown>[]).map((spec) => ({ ...spec })),
    result: valueOf,
  },
  preStart: {
    name: "ContainerPlugin.preStart",
    kind: kindOf("ContainerPlugin.preStart"),
    returnsValue: true,
    invoke: (fn, target, ctx, _input, run) => fn.call(target, ctx, run.a),
    accept(run, result) {
      (run.value as PrestartAccumulator).push(...checkPrestartList(result));
    },
    copy: same,
    result: valueOf,
  },
  preUpdate: {
    name: "ContainerPlugin.preUpdate",
    kind: kindOf("ContainerPlugin.preUpdate"),
    returnsValue: true,
    invoke: (fn, target, ctx, input) => fn.call(target, ctx, input),
    accept(run, result, input, entry: ChainEntry) {
      if (result === undefined) return;
      if (!isReadable(result)) throw new TypeError(`returned ${show(result)}; return a Readable stream (the body or a transform of it) or nothing`);
      // the first replacement's input is the request body: the composer starts from it
      ((run.acc as StreamComposer | undefined) ??= new StreamComposer(input as Readable, run.spec.name)).add(entry.name, result);
      run.value = result;
    },
    copy: same,
    // a fail-open plugin that fails is detached from the stream it was given (see streamDetach.ts)
    snapshot: (input) => snapshotStream(input as Readable),
    restore(run, input, snapshot, error) {
      const consumed = restoreStream(input as Readable, snapshot as ReturnType<typeof snapshotStream>);
      // bytes it took cannot be given back: the result stream errors with the plugin's error
      if (consumed) ((run.acc as StreamComposer | undefined) ??= new StreamComposer(run.value as Readable, run.spec.name)).poison(error);
    },
    result: (run) => (run.acc === undefined ? run.value : (run.acc as StreamComposer).result()),
  },
  postStart: observer("ContainerPlugin.postStart", (fn, target, ctx, _input, run) => fn.call(target, ctx, run.a)),
  onExit: observer("ContainerPlugin.onExit", (fn, target, ctx, _input, run) => fn.call(target, ctx, run.a, run.b)),
  resolveImage: {
    name: "ImagePlugin.resolveImage",
    kind: kindOf("ImagePlugin.resolveImage"),
    returnsValue: false,
    invoke: (fn, target, ctx, _input, run) => fn.call(target, ctx, run.a),
    accept(run, result, _input, entry: ChainEntry) {
      // undefined: not this provider's reference, the next one is asked
      if (result === undefined) return;
      run.value = { plugin: entry.name, image: checkResolvedImage(result, run.a as string) } satisfies Answer;
    },
    done: (run) => run.value !== undefined,
    copy: same,
    result: valueOf,
  },
  updateCommands: {
    name: "CliPlugin.updateCommands",
    kind: kindOf("CliPlugin.updateCommands"),
    returnsValue: true,
    invoke(fn, target, ctx, input, run) {
      // who owns each name, and the locked commands as they are, before the plugin can change them in place
      run.acc = commandsBefore(input as CliCommandSpec[]);
      return fn.call(target, ctx, input);
    },
    accept(run, result, input, entry: ChainEntry) {
      run.value = checkCommands(result === undefined ? input : result, run.acc as CommandsBefore, entry.name, run.spec.name);
    },
    copy: (value) => (value as CliCommandSpec[]).map((spec) => ({ ...spec })),
    result: valueOf,
  },
  postUpdate: notification("ContainerPlugin.postUpdate", (fn, target, ctx, _input, run) => fn.call(target, ctx, run.a, run.b)),
  postPull: notification("ImagePlugin.postPull", (fn, target, ctx, _input, run) => fn.call(target, ctx, run.a, run.b)),
  preStartHook: {
    name: "DaemonPlugin.preStartHook",
    kind: kindOf("DaemonPlugin.preStartHook"),
    returnsValue: true,
    invoke: (fn, target, ctx) => fn.call(target, ctx),
    accept(run, _result, _input, entry: ChainEntry) {
      (run.acc as string[]).push(entry.name);
    },
    copy: same,
    result: (run) => run.acc,
  },
  preStopHook: notification("DaemonPlugin.preStopHook", (fn, target, ctx) => fn.call(target, ctx)),
} satisfies Record<string, HookSpec>;
