/**
 * The bench's plugins, config, peers and floors. Every contender runs the same plugin source (its own compiled copy). The library
 * is the built package (dist/index.js, what users install), not the TypeScript sources: `npm run bench` builds it
 * first.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createHooks } from "hookable";
import { AsyncSeriesBailHook, AsyncSeriesHook, AsyncSeriesWaterfallHook } from "tapable";
import type * as Library from "hookplugins";
import type { ContainerCreateConfig, HookContext, HookEndEvent, Host, HostOptions } from "hookplugins";

const built = fileURLToPath(new URL("../dist/index.js", import.meta.url));
if (!existsSync(built)) throw new Error("bench: dist/index.js is missing; run `npm run bench` (it builds first) or `npm run build`");

/** The built library. */
export const lib = (await import(built)) as typeof Library;

/** A preCreate plugin function. */
export type PluginFn = (ctx: HookContext, config: ContainerCreateConfig) => void | Promise<void>;

/** Whether plugin methods are plain functions or async ones. */
export type Kind = "sync" | "async";

const ctx: HookContext = { signal: new AbortController().signal, plugin: "bench", hook: "ContainerPlugin.preCreate" };

/**
 * `n` plugins, each setting its own label on the config. Every call compiles the plugins' source anew, so that each
 * contender runs its own copy: V8 keeps type feedback per compiled function, and plugins shared by several
 * dispatchers would see every dispatcher's calls (in a host, one dispatcher calls a plugin).
 */
export function makeFns(n: number, kind: Kind): PluginFn[] {
  const source =
    kind === "sync"
      ? "return (_ctx, config) => { config.Labels[key] = 'on'; };"
      : "return async (_ctx, config) => { config.Labels[key] = 'on'; };";
  return Array.from({ length: n }, (_, i) => new Function("key", source)(`bench.p${i}`) as PluginFn);
}

/** A create config of the size a docker client sends for a small service. */
export function newConfig(): ContainerCreateConfig {
  return {
    Image: "registry.example/app:1.4.2",
    Cmd: ["/app/server", "--port", "8080"],
    Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "MODE=production", "LOG_LEVEL=info"],
    Labels: { "com.example.team": "storage", "com.example.tier": "backend" },
    ExposedPorts: { "8080/tcp": {} },
    WorkingDir: "/app",
    HostConfig: {
      Memory: 268435456,
      CpuShares: 512,
      Binds: ["/srv/data:/data:rw"],
      NetworkMode: "bridge",
      RestartPolicy: { Name: "on-failure", MaximumRetryCount: 3 },
      PortBindings: { "8080/tcp": [{ HostIp: "", HostPort: "18080" }] },
    },
  };
}

/** A host of the built library over a fresh registry holding `fns` as plugins p0..pn-1. */
export function hostOf(fns: readonly PluginFn[], meta: { failPolicy?: "fail-open" } = {}, options: Omit<HostOptions, "registry"> = {}): Host {
  const registry = lib.createRegistry();
  fns.forEach((fn, i) => registry.registerContainerPlugin({ name: `p${i}`, priority: 0, ...meta, preCreate: fn }));
  return lib.createHost({ ...options, registry });
}

const now = performance.now.bind(performance);

/**
 * The loop: call each function, `await` only what is a promise. The physical limit of a dispatcher.
 */
export function loopOf(fns: readonly PluginFn[]): () => Promise<ContainerCreateConfig> {
  return async () => {
    const config = newConfig();
    for (const fn of fns) {
      const result = fn(ctx, config);
      if (result instanceof Promise) await result;
    }
    return config;
  };
}

/**
 * The floor of a dispatcher with time limits: the loop plus exactly what the guarantee needs, one clock reading when
 * the first async plugin is called and one when each async step settles (a result at or after its deadline is refused;
 * that reading is the next plugin's start).
 */
export function timedLoopOf(fns: readonly PluginFn[], limitMs = 10_000): () => Promise<ContainerCreateConfig> {
  return async () => {
    const config = newConfig();
    let start = -1;
    for (const fn of fns) {
      if (start < 0) start = now();
      const result = fn(ctx, config);
      if (result instanceof Promise) {
        await result;
        const settled = now();
        if (settled >= start + limitMs) throw new Error("timed out");
        start = settled;
      }
    }
    return config;
  };
}

/**
 * The floor of a hookEnd listener, added to a host without one: exactly what the event needs, one clock reading per
 * call boundary (`readings`) and one event object and listener call per plugin call (`events`).
 */
export function withEventWork(call: () => Promise<unknown>, readings: number, events: number, listener: (event: HookEndEvent) => void): () => Promise<unknown> {
  return async () => {
    const result = await call();
    let t = 0;
    for (let i = 0; i < readings; i++) t = now();
    for (let i = 0; i < events; i++) listener({ plugin: "p", hook: "ContainerPlugin.preCreate", durationMs: t });
    return result;
  };
}

/** The peers on `n` plugins of `kind`, each with its own copy of the plugins, each a function making one call. */
export function peers(n: number, kind: Kind): Record<"hookplugins" | "loop" | "floor" | "tapable" | "hookable", () => unknown> {
  const host = hostOf(makeFns(n, kind));

  const tapable = new AsyncSeriesWaterfallHook<[ContainerCreateConfig]>(["config"]);
  makeFns(n, kind).forEach((fn, i) => {
    // tapable's waterfall keeps the value when a tap returns undefined, which is what an in-place plugin returns
    if (kind === "sync") tapable.tap(`p${i}`, (config) => fn(ctx, config) as unknown as ContainerCreateConfig);
    else tapable.tapPromise(`p${i}`, (config) => fn(ctx, config) as unknown as Promise<ContainerCreateConfig>);
  });

  const hookable = createHooks<{ preCreate: (config: ContainerCreateConfig) => void | Promise<void> }>();
  for (const fn of makeFns(n, kind)) hookable.hook("preCreate", (config) => fn(ctx, config));

  return {
    hookplugins: () => host.container.preCreate(newConfig()),
    loop: loopOf(makeFns(n, kind)),
    floor: timedLoopOf(makeFns(n, kind)),
    tapable: () => tapable.promise(newConfig()),
    // as users call it: callHook's own return, not wrapped in an async function
    hookable: () => hookable.callHook("preCreate", newConfig()),
  };
}

/** A container as postStart sees it, with a counter each observer bumps. */
export interface BenchContainer {
  Id: string;
  seen: number;
}

/** An observer plugin function (postStart). */
export type ObserverFn = (ctx: HookContext, container: BenchContainer) => void | Promise<void>;

/** `n` observers, each bumping the container's counter (its own compiled copy, as makeFns). */
export function makeObservers(n: number, kind: Kind): ObserverFn[] {
  const source = kind === "sync" ? "return (_ctx, c) => { c.seen++; };" : "return async (_ctx, c) => { c.seen++; };";
  return Array.from({ length: n }, () => new Function(source)() as ObserverFn);
}

/** A host of the built library whose ContainerPlugins p0..pn-1 observe postStart with `fns`. */
export function observerHostOf(fns: readonly ObserverFn[]): Host<Library.CustomHostTypes<{ container: BenchContainer }>> {
  const registry = lib.createRegistry<Library.CustomHostTypes<{ container: BenchContainer }>>();
  fns.forEach((fn, i) => registry.registerContainerPlugin({ name: `p${i}`, postStart: fn }));
  return lib.createHost({ registry });
}

/** The observer loop: call each function, `await` only what is a promise, keep every failure and go on. */
export function observerLoopOf(fns: readonly ObserverFn[]): () => Promise<{ failures: unknown[] }> {
  return async () => {
    const container = { Id: "c1", seen: 0 };
    const failures: unknown[] = [];
    for (const fn of fns) {
      try {
        const result = fn(ctx, container);
        if (result instanceof Promise) await result;
      } catch (error) {
        failures.push(error);
      }
    }
    return { failures };
  };
}

/** An image driver function (resolveImage). */
export type ProviderFn = (ctx: HookContext, ref: string) => Library.ResolvedImage | undefined | Promise<Library.ResolvedImage | undefined>;

/** `n` image drivers: all but the last say "not mine", the last answers, so every one is asked. */
export function makeProviders(n: number, kind: Kind): ProviderFn[] {
  const no = kind === "sync" ? "return (_ctx, ref) => undefined;" : "return async (_ctx, ref) => undefined;";
  const yes = kind === "sync" ? "return (_ctx, ref) => ({ ref, rootfs: '/images/app/rootfs', config: {} });" : "return async (_ctx, ref) => ({ ref, rootfs: '/images/app/rootfs', config: {} });";
  return Array.from({ length: n }, (_, i) => new Function(i === n - 1 ? yes : no)() as ProviderFn);
}

/** A host of the built library whose ImagePlugins p0..pn-1 resolve images with `fns`. */
export function providerHostOf(fns: readonly ProviderFn[]): Host {
  const registry = lib.createRegistry();
  fns.forEach((fn, i) => registry.registerImagePlugin({ name: `p${i}`, resolveImage: fn }));
  return lib.createHost({ registry });
}

/** The provider loop: ask each function in turn, `await` only what is a promise; the first answer wins. */
export function providerLoopOf(fns: readonly ProviderFn[]): (ref: string) => Promise<{ plugin: string; image: Library.ResolvedImage } | undefined> {
  return async (ref) => {
    for (let i = 0; i < fns.length; i++) {
      let result = fns[i]!(ctx, ref);
      if (result instanceof Promise) result = await result;
      if (result !== undefined) return { plugin: `p${i}`, image: result };
    }
    return undefined;
  };
}

/**
 * Observers hand-rolled on tapable: an AsyncSeriesHook with one tap per function (it stops at the first failure,
 * which these observers never have; the loop above keeps going, as hookplugins does).
 */
export function observerTapableOf(fns: readonly ObserverFn[], kind: Kind): () => Promise<void> {
  const hook = new AsyncSeriesHook<[BenchContainer]>(["container"]);
  fns.forEach((fn, i) => {
    if (kind === "sync") hook.tap(`p${i}`, (container) => void fn(ctx, container));
    else hook.tapPromise(`p${i}`, (container) => fn(ctx, container) as Promise<void>);
  });
  return () => hook.promise({ Id: "c1", seen: 0 });
}

/** Image drivers hand-rolled on tapable: an AsyncSeriesBailHook (the first tap that returns a value answers). */
export function providerTapableOf(fns: readonly ProviderFn[], kind: Kind): (ref: string) => Promise<Library.ResolvedImage | undefined> {
  const hook = new AsyncSeriesBailHook<[string], Library.ResolvedImage | undefined>(["ref"]);
  fns.forEach((fn, i) => {
    if (kind === "sync") hook.tap(`p${i}`, (ref) => fn(ctx, ref) as Library.ResolvedImage | undefined);
    else hook.tapPromise(`p${i}`, (ref) => fn(ctx, ref) as Promise<Library.ResolvedImage | undefined>);
  });
  return (ref) => hook.promise(ref);
}
