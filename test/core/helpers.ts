/**
 * Shared fixtures of the core suite: a fresh registry and host per test, and one driver per hook point
 * so that rules that hold for every hook point are tested on all of them.
 */
import { Readable } from "node:stream";
import {
  hookPoints,
  type CliCommandSpec,
  type ContainerExit,
  createHost,
  createRegistry,
  type CallOptions,
  type ContainerCreateConfig,
  type FailPolicy,
  type HandlerSpec,
  type HookContext,
  type HookName,
  type Host,
  type HostOptions,
  type PluginRegistry,
  type Unregister,
} from "hookplugins";

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A promise that never settles. */
export const forever = (): Promise<never> => new Promise<never>(() => {});

/** A minimal valid container create config (Image is required by the swagger types). */
export function config(extra: Partial<ContainerCreateConfig> = {}): ContainerCreateConfig {
  return { Image: "busybox", ...extra };
}

/** A fresh registry and a host over it. */
export function setup(options: Omit<HostOptions, "registry"> = {}): { registry: PluginRegistry; host: Host } {
  const registry = createRegistry();
  return { registry, host: createHost({ ...options, registry }) };
}

/** A route handler that does nothing. */
export const noopHandler = (): void => {};

/** A valid route table. */
export function routes(): HandlerSpec[] {
  return [{ method: "GET", path: "/_ping", handler: noopHandler }];
}

/** An exit of a container's main process by itself with status `code`. */
export function exitOf(extra: Partial<ContainerExit> = {}): ContainerExit {
  return { code: 0, signal: undefined, oomKilled: false, finishedAt: "2024-01-01T00:00:00Z", ...extra };
}

/** A valid built-in command list. */
export function commands(): CliCommandSpec[] {
  return [{ name: "list", description: "list things", action: () => 0 }];
}

/** Metadata a driver-registered plugin carries. */
export interface DriverMeta {
  name: string;
  priority?: number;
  timeoutMs?: number;
  failPolicy?: FailPolicy;
}

/** Registers and calls one hook point in a uniform way. */
export interface HookDriver {
  /** The hook point. */
  readonly hook: HookName;
  /** Registers a plugin implementing only this hook point; its method runs `body` and returns nothing. */
  register(registry: PluginRegistry, meta: DriverMeta, body: (ctx: HookContext) => unknown): Unregister;
  /** Calls the hook point on `host` with valid arguments. */
  call(host: Host, options?: CallOptions): Promise<unknown>;
}

function voidOf(result: unknown): void | Promise<void> {
  if (result instanceof Promise) return result.then(() => undefined);
  return undefined;
}

/** One driver per hook point, in hookPoints order. */
export const drivers: readonly HookDriver[] = [
  {
    hook: "ContainerPlugin.preCreate",
    register: (r, meta, body) => r.registerContainerPlugin({ ...meta, preCreate: (ctx) => voidOf(body(ctx)) }),
    call: (host, options) => host.container.preCreate(config(), options),
  },
  {
    hook: "ContainerPlugin.preStart",
    register: (r, meta, body) => r.registerContainerPlugin({ ...meta, preStart: (ctx) => voidOf(body(ctx)) }),
    call: (host, options) => host.container.preStart({ Id: "c1" }, options),
  },
  {
    hook: "ContainerPlugin.preCreateEndpoint",
    register: (r, meta, body) => r.registerContainerPlugin({ ...meta, preCreateEndpoint: (ctx) => voidOf(body(ctx)) }),
    call: (host, options) => host.container.preCreateEndpoint("c1", ["A=1"], { Name: "ep" }, options),
  },
  {
    hook: "ContainerPlugin.postStart",
    register: (r, meta, body) => r.registerContainerPlugin({ ...meta, postStart: (ctx) => voidOf(body(ctx)) }),
    call: (host, options) => host.container.postStart({ Id: "c1" }, options),
  },
  {
    hook: "ContainerPlugin.onExit",
    register: (r, meta, body) => r.registerContainerPlugin({ ...meta, onExit: (ctx) => voidOf(body(ctx)) }),
    call: (host, options) => host.container.onExit({ Id: "c1" }, exitOf(), options),
  },
  {
    hook: "ContainerPlugin.preUpdate",
    register: (r, meta, body) => r.registerContainerPlugin({ ...meta, preUpdate: (ctx) => voidOf(body(ctx)) }),
    call: (host, options) => host.container.preUpdate(Readable.from(["{}"]), options),
  },
  {
    hook: "ContainerPlugin.postUpdate",
    register: (r, meta, body) => r.registerContainerPlugin({ ...meta, postUpdate: (ctx) => voidOf(body(ctx)) }),
    call: (host, options) => host.container.postUpdate("/rootfs", ["A=1"], options),
  },
  {
    hook: "DaemonPlugin.preStartHook",
    register: (r, meta, body) => r.registerDaemonPlugin({ ...meta, preStartHook: (ctx) => voidOf(body(ctx)) }),
    call: (host, options) => host.daemon.preStart(options),
  },
  {
    hook: "DaemonPlugin.preStopHook",
    register: (r, meta, body) => r.registerDaemonPlugin({ ...meta, preStopHook: (ctx) => voidOf(body(ctx)) }),
    call: (host, options) => host.daemon.preStop(options),
  },
  {
    hook: "VolumePlugin.preVolumeCreate",
    register: (r, meta, body) => r.registerVolumePlugin({ ...meta, preVolumeCreate: (ctx) => voidOf(body(ctx)) }),
    call: (host, options) => host.volume.preVolumeCreate({ Name: "v1" }, options),
  },
  {
    hook: "CriPlugin.preCreateContainer",
    register: (r, meta, body) => r.registerCriPlugin({ ...meta, preCreateContainer: (ctx) => voidOf(body(ctx)) }),
    call: (host, options) => host.cri.preCreateContainer(config(), { ID: "sandbox-1" }, options),
  },
  {
    hook: "APIPlugin.updateHandler",
    register: (r, meta, body) => r.registerAPIPlugin({ ...meta, updateHandler: (ctx) => voidOf(body(ctx)) }),
    call: (host, options) => host.api.updateHandler(routes(), options),
  },
  {
    hook: "ImagePlugin.postPull",
    register: (r, meta, body) => r.registerImagePlugin({ ...meta, postPull: (ctx) => voidOf(body(ctx)) }),
    call: (host, options) => host.image.postPull("overlayfs", { Id: "sha256:1" }, options),
  },
  {
    hook: "ImagePlugin.resolveImage",
    register: (r, meta, body) => r.registerImagePlugin({ ...meta, resolveImage: (ctx) => voidOf(body(ctx)) }),
    call: (host, options) => host.image.resolveImage("dir:/images/app", options),
  },
  {
    hook: "CliPlugin.updateCommands",
    register: (r, meta, body) => r.registerCliPlugin({ ...meta, updateCommands: (ctx) => voidOf(body(ctx)) }),
    call: (host, options) => host.cli.updateCommands(commands(), options),
  },
];

/** Drivers whose host call fails as soon as one fail-closed plugin fails (all but the AggregateError stop and the observers). */
export const stoppingDrivers = drivers.filter((d) => d.hook !== "DaemonPlugin.preStopHook" && hookPoints.find((p) => p.name === d.hook)?.kind !== "observe");

/** Settles `promise` and returns its rejection reason; fails when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the promise to reject, but it resolved");
}
