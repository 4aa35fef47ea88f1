/**
 * The bench's plugins, config and peers. Every peer calls the very same plugin functions.
 */
import { createHooks } from "hookable";
import { AsyncSeriesWaterfallHook } from "tapable";
import { createHost, createRegistry, type ContainerCreateConfig, type HookContext, type Host, type HostOptions } from "hookplugins";

/** A preCreate plugin function. */
export type PluginFn = (ctx: HookContext, config: ContainerCreateConfig) => void | Promise<void>;

/** Whether plugin methods are plain functions or async ones. */
export type Kind = "sync" | "async";

const ctx: HookContext = { signal: new AbortController().signal, plugin: "bench", hook: "ContainerPlugin.preCreate" };

/** `n` plugins, each setting its own label on the config. */
export function makeFns(n: number, kind: Kind): PluginFn[] {
  return Array.from({ length: n }, (_, i): PluginFn => {
    const key = `bench.p${i}`;
    return kind === "sync"
      ? (_ctx, config) => {
          config.Labels![key] = "on";
        }
      : async (_ctx, config) => {
          config.Labels![key] = "on";
        };
  });
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

/** A host over a fresh registry holding `fns` as plugins p0..pn-1. */
export function hostOf(fns: readonly PluginFn[], meta: { failPolicy?: "fail-open" } = {}, options: Omit<HostOptions, "registry"> = {}): Host {
  const registry = createRegistry();
  fns.forEach((fn, i) => registry.registerContainerPlugin({ name: `p${i}`, priority: 0, ...meta, preCreate: fn }));
  return createHost({ ...options, registry });
}

/** The peers of one plugin set, each a function making one call. */
export function peers(fns: PluginFn[], kind: Kind): Record<"hookplugins" | "loop" | "timedLoop" | "tapable" | "hookable", () => unknown> {
  const host = hostOf(fns);

  const tapable = new AsyncSeriesWaterfallHook<[ContainerCreateConfig]>(["config"]);
  fns.forEach((fn, i) => {
    // tapable's waterfall keeps the value when a tap returns undefined, which is what an in-place plugin returns
    if (kind === "sync") tapable.tap(`p${i}`, (config) => fn(ctx, config) as unknown as ContainerCreateConfig);
    else tapable.tapPromise(`p${i}`, (config) => fn(ctx, config) as unknown as Promise<ContainerCreateConfig>);
  });

  const hookable = createHooks<{ preCreate: (config: ContainerCreateConfig) => void | Promise<void> }>();
  fns.forEach((fn) => hookable.hook("preCreate", (config) => fn(ctx, config)));

  // the physical limit: call each function, await only what is a promise
  const loop = async (): Promise<ContainerCreateConfig> => {
    const config = newConfig();
    for (const fn of fns) {
      const result = fn(ctx, config);
      if (result instanceof Promise) await result;
    }
    return config;
  };

  // the physical limit of a dispatcher that keeps time limits: the loop plus one clock reading per await, which
  // refuses a result that settled at or after the deadline counted from the call (what hookplugins guarantees)
  const now = performance.now.bind(performance);
  const timedLoop = async (): Promise<ContainerCreateConfig> => {
    const config = newConfig();
    let start = -1;
    for (const fn of fns) {
      if (start < 0) start = now();
      const result = fn(ctx, config);
      if (result instanceof Promise) {
        await result;
        const settled = now();
        if (settled >= start + 10_000) throw new Error("timed out");
        start = settled;
      }
    }
    return config;
  };

  return {
    hookplugins: () => host.container.preCreate(newConfig()),
    loop,
    timedLoop,
    tapable: () => tapable.promise(newConfig()),
    // as users call it: callHook's own return, not wrapped in an async function
    hookable: () => hookable.callHook("preCreate", newConfig()),
  };
}
