/**
 * createHost: the host side of hookplugins, with one typed namespace per plugin interface.
 */
import type { Readable } from "node:stream";
import { hookPoints, type HookName, type HookPointInfo } from "../plugins/hookPoints.js";
import type { PluginHookError } from "../errors.js";
import type { CliCommandSpec, ContainerExit, CriConfigOf, DefaultHostTypes, HandlerSpec, HostTypes, PrestartHook, ResolvedImage } from "../plugins/interfaces.js";
import { defaultRegistry } from "../registry/defaultRegistry.js";
import { disabledFromStateFile } from "../state/pluginState.js";
import type { PluginRegistry } from "../registry/registry.js";
import type { PluginSource } from "../plugins/source.js";
import type { ExternalPluginEvents } from "../plugins/externalEvents.js";
import { buildChain, type Chain } from "./chain.js";
import { DaemonLifecycle } from "./daemonLifecycle.js";
import { hookSpecs } from "./hookSpecs.js";
import { HostCore, type HostEventEmitter } from "./hostCore.js";
import { checkPrestartHook, mergePrestartHooks } from "./prestartHooks.js";
import type { HookSpec } from "./hookSpec.js";
import { Run, type FailureMode } from "./run.js";
import { auditedSpec, type AuditEntry } from "../audit/auditedSpec.js";

/** Options of every host call. */
export interface CallOptions {
  /** Cancels the operation: the running plugin's ctx.signal is aborted and the call rejects. */
  signal?: AbortSignal;
}

/** Options of the waterfall host calls (preCreate, preCreateEndpoint, preVolumeCreate, preCreateContainer). */
export interface WaterfallOptions extends CallOptions {
  /** Opt-in audit: each leaf field a plugin changes is appended as `{ pointer, plugin, before, after }`. Unset: no cost. */
  audit?: AuditEntry[];
}

/** Options of host.container.preStart. */
export interface PreStartOptions extends CallOptions {
  /** The host's own prestart hooks (e.g. the network setup hook at priority 0), merged with the plugins'. */
  builtin?: readonly PrestartHook[];
}

/** What an observer hook point's run ended with. */
export interface ObserverOutcome {
  /** The fail-closed plugins' failures, in call order (each was also a hookError event); empty when all succeeded. */
  readonly failures: readonly PluginHookError[];
}

/** Which provider answered, and what it supplied. */
export interface ImageResolution {
  /** The image driver plugin that answered. */
  readonly plugin: string;
  /** The image it supplied. */
  readonly image: ResolvedImage;
}

/** What createHost needs of the external plugins that `loadExternalPlugins` (hookplugins/external) loaded. */
export interface HostExternalPlugins<T extends HostTypes = DefaultHostTypes> {
  /** The registry their proxies are registered in: it must be the host's. */
  readonly registry: PluginRegistry<T>;
  /** Their events, which the host re-emits. */
  readonly events: {
    on<E extends keyof ExternalPluginEvents>(event: E, listener: ExternalPluginEvents[E]): unknown;
    off<E extends keyof ExternalPluginEvents>(event: E, listener: ExternalPluginEvents[E]): unknown;
  };
  /** Stops their processes and connections. */
  close(): Promise<void>;
}

/** Options of createHost. */
export interface HostOptions<T extends HostTypes = DefaultHostTypes> {
  /** The registry to dispatch to; default: the process-wide default registry. */
  registry?: PluginRegistry<T>;
  /** Default time limit of a plugin's async hook call, in ms; 0 turns it off. Default 10000. */
  timeoutMs?: number;
  /** Names of plugins this host skips (under every interface they are registered as). */
  disabled?: Iterable<string>;
  /** A plugin state file (written by `hookplugins plugin disable`): the plugins it disables are skipped too. Missing: none disabled; unreadable or corrupt: createHost throws PluginStateError. */
  stateFile?: string;
  /**
   * External plugins loaded into this host's registry (loadExternalPlugins): their events (pluginLog, pluginHealth,
   * pluginProcess) come out of host.events, and host.close() stops them.
   */
  external?: HostExternalPlugins<T>;
  /**
   * What observer hook points (postStart, onExit) do with fail-closed plugins' failures after every plugin ran:
   * "report" (default) resolves with them in the ObserverOutcome; "reject" rejects with an AggregateError of them.
   * Either way each failure is a hookError event, and it never stops the other plugins.
   */
  observerFailures?: "report" | "reject";
}

/** One plugin's place in host.explain(). */
export interface ExplainEntry {
  /** Plugin name. */
  readonly plugin: string;
  /** Its priority. */
  readonly priority: number;
  /** False when the host has disabled it: it keeps its place but is skipped. */
  readonly enabled: boolean;
  /** Where an external plugin comes from (its socket, spec file or executable); absent for plugins compiled in. */
  readonly source?: PluginSource;
}

/** host.explain(): every hook point with its plugins in the order the next call uses. */
export type HostExplanation = Record<HookName, ExplainEntry[]>;

/** The host side of hookplugins, typed by the host's own types. */
export interface Host<T extends HostTypes = DefaultHostTypes> {
  /** ContainerPlugin hook points. */
  readonly container: {
    /** Runs preCreate as a waterfall; resolves with the final config. */
    preCreate(config: T["config"], options?: WaterfallOptions): Promise<T["config"]>;
    /** Collects every plugin's prestart hooks and merges them with `builtin`, ordered by priority. */
    preStart(container: T["container"], options?: PreStartOptions): Promise<PrestartHook[]>;
    /** Runs preCreateEndpoint as a waterfall on `endpoint`; resolves with the final endpoint. */
    preCreateEndpoint(
      containerId: string,
      env: readonly string[],
      endpoint: T["endpoint"],
      options?: WaterfallOptions,
    ): Promise<T["endpoint"]>;
    /** Tells every plugin the container's process started; every plugin runs, failures are reported (HostOptions.observerFailures). */
    postStart(container: T["container"], options?: CallOptions): Promise<ObserverOutcome>;
    /** Tells every plugin the container's main process ended, once per exit; every plugin runs, failures are reported. */
    onExit(container: T["container"], exit: ContainerExit, options?: CallOptions): Promise<ObserverOutcome>;
    /** Passes the raw update body through every plugin; resolves with the composed stream. */
    preUpdate(body: Readable, options?: CallOptions): Promise<Readable>;
    /** Tells every plugin that a container was updated. */
    postUpdate(rootfs: string, env: readonly string[], options?: CallOptions): Promise<void>;
  };
  /** DaemonPlugin hook points. */
  readonly daemon: {
    /** Runs preStartHook in order; rolls back started plugins and rejects when one fails. */
    preStart(options?: CallOptions): Promise<void>;
    /** Runs every preStopHook in reverse order; rejects with an AggregateError when any failed; runs once. */
    preStop(options?: CallOptions): Promise<void>;
  };
  /** VolumePlugin hook points. */
  readonly volume: {
    /** Runs preVolumeCreate as a waterfall; resolves with the final config. */
    preVolumeCreate(config: T["volumeConfig"], options?: WaterfallOptions): Promise<T["volumeConfig"]>;
  };
  /** CriPlugin hook points. */
  readonly cri: {
    /** Runs preCreateContainer as a waterfall; resolves with the final config. */
    preCreateContainer(config: CriConfigOf<T>, sandboxMeta: T["sandboxMeta"], options?: WaterfallOptions): Promise<CriConfigOf<T>>;
  };
  /** APIPlugin hook points. */
  readonly api: {
    /** Runs updateHandler as a waterfall over the route table; resolves with the final routes. */
    updateHandler(handlers: HandlerSpec<T["handler"]>[], options?: CallOptions): Promise<HandlerSpec<T["handler"]>[]>;
  };
  /** ImagePlugin hook points. */
  readonly image: {
    /** Tells every plugin that an image was pulled into `snapshotter`. */
    postPull(snapshotter: string, image: T["image"], options?: CallOptions): Promise<void>;
    /** Asks the image drivers in priority order; resolves with the first answer, or undefined when none knows `ref`. */
    resolveImage(ref: string, options?: CallOptions): Promise<ImageResolution | undefined>;
  };
  /** CliPlugin hook points. */
  readonly cli: {
    /** Runs updateCommands as a waterfall over the command list; resolves with the final commands (a conflict rejects with CliCommandConflictError). */
    updateCommands(commands: CliCommandSpec[], options?: CallOptions): Promise<CliCommandSpec[]>;
  };
  /** Typed events: registered, unregistered, hookStart, hookEnd, hookError. */
  readonly events: HostEventEmitter;
  /** Every hook point with the plugins the next call will run, in order. */
  explain(): HostExplanation;
  /** Makes the host run plugin `name` again. */
  enable(name: string): void;
  /** Makes the host skip plugin `name` (it keeps its place in explain()). */
  disable(name: string): void;
  /** Whether the host runs plugin `name`. */
  isEnabled(name: string): boolean;
  /** Stops listening to the registry (registered/unregistered events end); stops the external plugins' processes. */
  close(): Promise<void>;
}

interface Slot {
  readonly point: HookPointInfo;
  chain: Chain | undefined;
  /** registry.version + stateStamp when the chain was built: both only grow, so their sum changes when either does. */
  stamp: number;
}

class HostImpl {
  readonly core = new HostCore();
  readonly registry: PluginRegistry<HostTypes>;
  readonly timeoutMs: number;
  readonly disabled: Set<string>;
  readonly slots = new Map<HookName, Slot>();
  readonly unsubscribeRegistry: () => void;
  /** How observer runs treat fail-closed failures. */
  readonly observerMode: FailureMode;
  stateStamp = 0;

  constructor(options: HostOptions<HostTypes>) {
    const timeoutMs = options.timeoutMs ?? 10_000;
    if (typeof timeoutMs !== "number" || !Number.isFinite(timeoutMs) || timeoutMs < 0) {
      throw new TypeError(`createHost: timeoutMs must be a finite number of milliseconds >= 0 (0 turns timeouts off), got ${String(timeoutMs)}`);
    }
    this.timeoutMs = timeoutMs;
    const observerFailures = options.observerFailures ?? "report";
    if (observerFailures !== "report" && observerFailures !== "reject") {
      throw new TypeError(`createHost: observerFailures must be "report" (resolve with the failures) or "reject" (reject with an AggregateError), got ${JSON.stringify(observerFailures)}`);
    }
    this.observerMode = observerFailures === "report" ? "report" : "collect";
    this.registry = (options.registry ?? defaultRegistry) as PluginRegistry<HostTypes>;
    this.disabled = new Set([...(options.disabled ?? []), ...(options.stateFile ? disabledFromStateFile(options.stateFile) : [])]);
    for (const point of hookPoints) {
      this.slots.set(point.name, { point, chain: undefined, stamp: -1 });
    }
    this.unsubscribeRegistry = this.registry.subscribe((change) => this.core.events.emit(change.kind, change.plugin));
    const external = options.external;
    if (external && (external.registry as unknown) !== this.registry) {
      throw new TypeError("createHost: options.external was loaded into another registry; load it into the host's registry (loadExternalPlugins(registry, ...)) and pass that registry");
    }
    const forwarded = (["pluginLog", "pluginHealth", "pluginProcess"] as const).map((name) => {
      const listener = (event: never): void => void (this.core.events.emit as (n: string, e: unknown) => boolean)(name, event);
      (external?.events as { on(n: string, l: unknown): unknown } | undefined)?.on(name, listener);
      return () => (external?.events as { off(n: string, l: unknown): unknown } | undefined)?.off(name, listener);
    });
    this.unforward = () => {
      for (const off of forwarded) off();
    };
    this.external = external;
  }

  readonly external: HostExternalPlugins<HostTypes> | undefined;
  /** Stops re-emitting the external plugins' events. */
  readonly unforward: () => void;

  slot(name: HookName): Slot {
    return this.slots.get(name)!;
  }

  chain(slot: Slot): Chain {
    const stamp = this.registry.version + this.stateStamp;
    if (slot.stamp !== stamp || !slot.chain) {
      slot.chain = buildChain(slot.point, this.registry.list(slot.point.type), {
        timeoutMs: this.timeoutMs,
        isDisabled: (name) => this.disabled.has(name),
      });
      slot.stamp = stamp;
    }
    return slot.chain;
  }

  /** Runs a hook point; `mode` says what a fail-closed plugin's failure does (observers: the host's observerMode). */
  run(slot: Slot, spec: HookSpec, value: unknown, a: unknown, b: unknown, options: CallOptions | undefined, mode: FailureMode = "stop"): Promise<unknown> {
    const chain = this.chain(slot);
    if (!chain.live) return Promise.resolve(spec.returnsValue ? value : mode === "stop" ? undefined : noFailures);
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const run = new Run(this.core, spec, signal, mode);
    run.value = value;
    run.a = a;
    run.b = b;
    return run.start(chain);
  }
}

/** The outcome of an observer run no plugin ran in. */
const noFailures: ObserverOutcome = Object.freeze({ failures: Object.freeze([]) });

/** The spec of one waterfall call: audited only when the caller asked for it. */
function specFor(spec: HookSpec, options: WaterfallOptions | undefined, input: unknown): HookSpec {
  return options?.audit ? auditedSpec(spec, options.audit, input) : spec;
}

/** Creates a host that dispatches to the plugins of `options.registry` (default: the default registry). */
export function createHost<T extends HostTypes = DefaultHostTypes>(options: HostOptions<T> = {}): Host<T> {
  const impl = new HostImpl(options as unknown as HostOptions<HostTypes>);
  const s = (name: HookName): Slot => impl.slot(name);
  const preCreate = s("ContainerPlugin.preCreate");
  const preStart = s("ContainerPlugin.preStart");
  const preCreateEndpoint = s("ContainerPlugin.preCreateEndpoint");
  const preUpdate = s("ContainerPlugin.preUpdate");
  const postUpdate = s("ContainerPlugin.postUpdate");
  const preVolumeCreate = s("VolumePlugin.preVolumeCreate");
  const preCreateContainer = s("CriPlugin.preCreateContainer");
  const updateHandler = s("APIPlugin.updateHandler");
  const postPull = s("ImagePlugin.postPull");
  const postStart = s("ContainerPlugin.postStart");
  const onExit = s("ContainerPlugin.onExit");
  const resolveImage = s("ImagePlugin.resolveImage");
  const updateCommands = s("CliPlugin.updateCommands");
  const lifecycle = new DaemonLifecycle(impl.core, () => ({
    start: impl.chain(s("DaemonPlugin.preStartHook")),
    stop: impl.chain(s("DaemonPlugin.preStopHook")),
  }));

  const host: Host<HostTypes> = {
    container: {
      preCreate: (config, options) => impl.run(preCreate, specFor(hookSpecs.preCreate, options, config), config, undefined, undefined, options) as Promise<never>,
      preStart(container, options) {
        let builtin: PrestartHook[];
        try {
          builtin = (options?.builtin ?? []).map((hook, i) => checkPrestartHook(hook, `builtin prestart hook #${i}`));
        } catch (error) {
          return Promise.reject(error);
        }
        const hooks = impl.run(preStart, hookSpecs.preStart, [], container, undefined, options) as Promise<PrestartHook[]>;
        return hooks.then((fromPlugins) => mergePrestartHooks(builtin, fromPlugins));
      },
      preCreateEndpoint: (containerId, env, endpoint, options) =>
        impl.run(preCreateEndpoint, specFor(hookSpecs.preCreateEndpoint, options, endpoint), endpoint, containerId, env, options) as Promise<never>,
      postStart: (container, options) =>
        impl.run(postStart, hookSpecs.postStart, undefined, container, undefined, options, impl.observerMode) as Promise<ObserverOutcome>,
      onExit: (container, exit, options) =>
        impl.run(onExit, hookSpecs.onExit, undefined, container, exit, options, impl.observerMode) as Promise<ObserverOutcome>,
      preUpdate: (body, options) =>
        impl.run(preUpdate, hookSpecs.preUpdate, body, undefined, undefined, options) as Promise<Readable>,
      postUpdate: (rootfs, env, options) =>
        impl.run(postUpdate, hookSpecs.postUpdate, undefined, rootfs, env, options) as Promise<void>,
    },
    daemon: {
      preStart: (options) => lifecycle.start(options?.signal),
      preStop: (options) => lifecycle.stop(options?.signal),
    },
    volume: {
      preVolumeCreate: (config, options) =>
        impl.run(preVolumeCreate, specFor(hookSpecs.preVolumeCreate, options, config), config, undefined, undefined, options) as Promise<never>,
    },
    cri: {
      preCreateContainer: (config, sandboxMeta, options) =>
        impl.run(preCreateContainer, specFor(hookSpecs.preCreateContainer, options, config), config, sandboxMeta, undefined, options) as Promise<never>,
    },
    api: {
      updateHandler: (handlers, options) =>
        impl.run(updateHandler, hookSpecs.updateHandler, handlers, undefined, undefined, options) as Promise<never>,
    },
    image: {
      postPull: (snapshotter, image, options) =>
        impl.run(postPull, hookSpecs.postPull, undefined, snapshotter, image, options) as Promise<void>,
      resolveImage: (ref, options) =>
        typeof ref === "string" && ref !== ""
          ? (impl.run(resolveImage, hookSpecs.resolveImage, undefined, ref, undefined, options) as Promise<ImageResolution | undefined>)
          : Promise.reject(new TypeError(`host.image.resolveImage: ref must be a non-empty string (an image reference such as "dir:/images/app" or "alpine:3"), got ${JSON.stringify(ref)}`)),
    },
    cli: {
      updateCommands: (commands, options) =>
        impl.run(updateCommands, hookSpecs.updateCommands, commands, undefined, undefined, options) as Promise<CliCommandSpec[]>,
    },
    events: impl.core.events,
    explain() {
      const explanation = {} as HostExplanation;
      for (const point of hookPoints) {
        explanation[point.name] = impl.chain(impl.slot(point.name)).entries.map((entry) => ({
          plugin: entry.name,
          priority: entry.priority,
          enabled: entry.enabled,
          ...(entry.plugin.source && { source: entry.plugin.source }),
        }));
      }
      return explanation;
    },
    enable(name) {
      if (impl.disabled.delete(name)) impl.stateStamp++;
    },
    disable(name) {
      if (!impl.disabled.has(name)) {
        impl.disabled.add(name);
        impl.stateStamp++;
      }
    },
    isEnabled: (name) => !impl.disabled.has(name),
    close: async () => {
      impl.unsubscribeRegistry();
      // the external plugins' last events (their processes stopping) still reach host.events
      await impl.external?.close();
      impl.unforward();
    },
  };
  return host as unknown as Host<T>;
}
