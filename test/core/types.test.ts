/**
 * Type-level tests: `npm test` runs tsc over this file before vitest, so every `@ts-expect-error` line
 * must really be a type error and every expectTypeOf must hold; vitest then runs the runtime parts.
 */
import type { Readable } from "node:stream";
import {
  createHost,
  createRegistry,
  defaultRegistry,
  registerContainerPlugin,
  type ContainerCreateConfig,
  type ContainerPlugin,
  type CustomHostTypes,
  type DefaultHostTypes,
  type Endpoint,
  type HandlerFunction,
  type HandlerSpec,
  type HookContext,
  type HookEndEvent,
  type HookName,
  type Host,
  type HostExplanation,
  type PluginRegistry,
  type PrestartHook,
  type VolumeCreateConfig,
} from "hookplugins";
import { createCriProxy, type CriProxy } from "hookplugins/cri";
import { createDockerBridge, type DockerBridge } from "hookplugins/docker";
import { loadExternalPlugins, type ExternalPlugins } from "hookplugins/external";
import { describe, expect, expectTypeOf, it } from "vitest";

/** A host's richer create config. */
interface MyConfig extends ContainerCreateConfig {
  tenant: string;
  Labels: Record<string, string>;
}

type MyTypes = CustomHostTypes<{ config: MyConfig }>;

describe("plugin types", () => {
  it("types every hook method's context and arguments", () => {
    const registry = createRegistry();
    registry.registerContainerPlugin({
      name: "typed",
      preCreate(ctx, config) {
        expectTypeOf(ctx).toEqualTypeOf<HookContext>();
        expectTypeOf(ctx.hook).toEqualTypeOf<HookName>();
        expectTypeOf(ctx.signal).toEqualTypeOf<AbortSignal>();
        expectTypeOf(config).toEqualTypeOf<ContainerCreateConfig>();
      },
      preCreateEndpoint(_ctx, id, env, endpoint) {
        expectTypeOf(id).toEqualTypeOf<string>();
        expectTypeOf(env).toEqualTypeOf<readonly string[]>();
        expectTypeOf(endpoint).toEqualTypeOf<Endpoint>();
      },
      preUpdate(_ctx, body) {
        expectTypeOf(body).toEqualTypeOf<Readable>();
      },
    });
    expect(registry.list()).toHaveLength(1);
  });

  it("accepts sync and async methods alike", () => {
    const registry = createRegistry();
    registry.registerContainerPlugin({ name: "sync", preCreate: (_ctx, c) => c });
    registry.registerContainerPlugin({ name: "async", preCreate: async (_ctx, c) => c });
    registry.registerContainerPlugin({ name: "void", preCreate: async () => {} });
    registry.registerVolumePlugin({ name: "vol", preVolumeCreate: (_ctx, v) => ({ ...v, Driver: "local" }) });
    expect(registry.list()).toHaveLength(4);
  });

  it("does not compile a plugin method with a wrong parameter type", () => {
    const registry = createRegistry();
    const wrongParam = () =>
      registry.registerContainerPlugin({
        name: "wrong-param",
        // @ts-expect-error config is a ContainerCreateConfig, not a number
        preCreate(_ctx: HookContext, config: number) {
          void config;
        },
      });
    const wrongCtx = () =>
      registry.registerImagePlugin({
        name: "wrong-ctx",
        // @ts-expect-error the first parameter is the HookContext, not the snapshotter
        postPull(snapshotter: number) {
          void snapshotter;
        },
      });
    expectTypeOf(wrongParam).toBeFunction();
    expectTypeOf(wrongCtx).toBeFunction();
  });

  it("does not compile a plugin method with a wrong return type", () => {
    const registry = createRegistry();
    const wrongReturn = () =>
      registry.registerContainerPlugin({
        name: "wrong-return",
        // @ts-expect-error preCreate returns the config or nothing, not a number
        preCreate: () => 42,
      });
    const wrongHooks = () =>
      registry.registerContainerPlugin({
        name: "wrong-hooks",
        // @ts-expect-error a prestart hook needs a priority
        preStart: () => [{ path: "/bin/x" }],
      });
    const wrongAsync = () =>
      registry.registerVolumePlugin({
        name: "wrong-async",
        // @ts-expect-error an async preVolumeCreate resolves with the config or nothing, not a string
        preVolumeCreate: async () => "volume",
      });
    expectTypeOf(wrongReturn).toBeFunction();
    expectTypeOf(wrongHooks).toBeFunction();
    expectTypeOf(wrongAsync).toBeFunction();
  });

  it("does not compile a near-miss member in an object literal", () => {
    const registry = createRegistry();
    const nearMiss = () =>
      registry.registerContainerPlugin({
        name: "near-miss",
        preStart: () => [],
        // @ts-expect-error preCreat is not a ContainerPlugin member (did you mean preCreate?)
        preCreat: () => {},
      });
    const wrongCase = () =>
      registerContainerPlugin({
        name: "wrong-case",
        // @ts-expect-error PreCreate is not a ContainerPlugin member
        PreCreate: () => {},
        preStart: () => [],
      });
    expectTypeOf(nearMiss).toBeFunction();
    expectTypeOf(wrongCase).toBeFunction();
  });

  it("does not compile a plugin without a name or with a non-number priority", () => {
    // @ts-expect-error name is required
    const noName: ContainerPlugin = { preCreate: () => {} };
    // @ts-expect-error priority is a number
    const badPriority: ContainerPlugin = { name: "p", priority: "5", preCreate: () => {} };
    expect([noName, badPriority]).toHaveLength(2);
  });
});

describe("host types", () => {
  it("returns the right promise types from host methods", () => {
    const host = createHost({ registry: createRegistry() });
    expectTypeOf(host.container.preCreate).returns.toEqualTypeOf<Promise<ContainerCreateConfig>>();
    expectTypeOf(host.container.preStart).returns.toEqualTypeOf<Promise<PrestartHook[]>>();
    expectTypeOf(host.container.preCreateEndpoint).returns.toEqualTypeOf<Promise<Endpoint>>();
    expectTypeOf(host.container.preUpdate).returns.toEqualTypeOf<Promise<Readable>>();
    expectTypeOf(host.container.postUpdate).returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf(host.daemon.preStart).returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf(host.daemon.preStop).returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf(host.volume.preVolumeCreate).returns.toEqualTypeOf<Promise<VolumeCreateConfig>>();
    expectTypeOf(host.cri.preCreateContainer).returns.toEqualTypeOf<Promise<ContainerCreateConfig>>();
    expectTypeOf(host.image.postPull).returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf(host.api.updateHandler).returns.toEqualTypeOf<Promise<HandlerSpec<HandlerFunction>[]>>();
    expectTypeOf(host.explain).returns.toEqualTypeOf<HostExplanation>();
    expectTypeOf<keyof HostExplanation>().toEqualTypeOf<HookName>();
    host.close();
  });

  it("does not compile a create config without the required Image", () => {
    const host = createHost({ registry: createRegistry() });
    // @ts-expect-error Image is required by the swagger ContainerCreateConfig
    const call = () => host.container.preCreate({ Cmd: ["true"] });
    expectTypeOf(call).toBeFunction();
    host.close();
  });

  it("types host events", () => {
    const host = createHost({ registry: createRegistry() });
    host.events.on("hookEnd", (event) => {
      expectTypeOf(event).toEqualTypeOf<HookEndEvent>();
      expectTypeOf(event.durationMs).toEqualTypeOf<number>();
    });
    // @ts-expect-error there is no "hookFinished" event
    host.events.on("hookFinished", () => {});
    host.close();
  });

  it("gives a host with richer types its own config type back without casts", async () => {
    const registry = createRegistry<MyTypes>();
    registry.registerContainerPlugin({
      name: "tenant-label",
      preCreate(_ctx, config) {
        expectTypeOf(config).toEqualTypeOf<MyConfig>();
        config.Labels["tenant"] = config.tenant;
      },
    });
    registry.registerCriPlugin({
      name: "cri-tenant",
      preCreateContainer(_ctx, config) {
        expectTypeOf(config).toEqualTypeOf<MyConfig>();
      },
    });
    const host = createHost({ registry });
    expectTypeOf(host).toEqualTypeOf<Host<MyTypes>>();
    const result = await host.container.preCreate({ Image: "busybox", tenant: "acme", Labels: {} });
    expectTypeOf(result).toEqualTypeOf<MyConfig>();
    const tenant: string = result.tenant;
    expect(tenant).toBe("acme");
    expect(result.Labels).toEqual({ tenant: "acme" });
    // @ts-expect-error a richer host requires its own fields (tenant) in the config
    const missing = () => host.container.preCreate({ Image: "busybox", Labels: {} });
    expectTypeOf(missing).toBeFunction();
    host.close();
  });

  it("does not compile a plugin with a default-typed method in a richer host's registry when the types clash", () => {
    const registry = createRegistry<CustomHostTypes<{ volumeConfig: { Name: string; Size: number } }>>();
    const clash = () =>
      registry.registerVolumePlugin({
        name: "clash",
        // @ts-expect-error Size is a number in this host
        preVolumeCreate: (_ctx, v) => ({ ...v, Size: "10G" }),
      });
    expectTypeOf(clash).toBeFunction();
  });
});

describe("types across the subpaths' boundaries", () => {
  it("accepts a registry from createRegistry() in loadExternalPlugins and types the result by it", () => {
    const load = () => loadExternalPlugins(createRegistry(), { socketDirs: [] });
    expectTypeOf(load).returns.resolves.toEqualTypeOf<ExternalPlugins<DefaultHostTypes>>();
  });

  it("accepts the default registry in loadExternalPlugins", () => {
    const load = () => loadExternalPlugins(defaultRegistry, { socketDirs: [] });
    expectTypeOf(load).returns.resolves.toEqualTypeOf<ExternalPlugins<DefaultHostTypes>>();
  });

  it("accepts a richer host's registry in loadExternalPlugins and in createHost beside its external plugins", async () => {
    const registry = createRegistry<MyTypes>();
    const external = await loadExternalPlugins(registry, { socketDirs: [] });
    expectTypeOf(external.registry).toEqualTypeOf<PluginRegistry<MyTypes>>();
    const host = createHost({ registry, external });
    expectTypeOf(host).toEqualTypeOf<Host<MyTypes>>();
    await host.close();
  });

  it("does not compile a host given external plugins loaded into a registry of other types", async () => {
    const external = await loadExternalPlugins(createRegistry(), { socketDirs: [] });
    // @ts-expect-error the external plugins' registry has the default types, the host's has MyTypes
    const make = () => createHost({ registry: createRegistry<MyTypes>(), external });
    expectTypeOf(make).toBeFunction();
    await external.close();
  });

  it("accepts a default host in createDockerBridge", () => {
    const bridge = () => createDockerBridge({ host: createHost(), name: "hp", authz: true });
    expectTypeOf(bridge).returns.resolves.toEqualTypeOf<DockerBridge>();
  });

  it("accepts a default host in createCriProxy", () => {
    const proxy = () => createCriProxy({ host: createHost(), listen: "/run/hp/cri.sock", upstream: "unix:///run/containerd/containerd.sock" });
    expectTypeOf(proxy).returns.resolves.toEqualTypeOf<CriProxy>();
  });

  it("accepts a host over a richer host's registry in createCriProxy", () => {
    const proxy = () => createCriProxy({ host: createHost({ registry: createRegistry<MyTypes>() }), listen: "/run/hp/cri.sock", upstream: "/run/containerd/containerd.sock" });
    expectTypeOf(proxy).returns.resolves.toEqualTypeOf<CriProxy>();
  });

  it("does not compile createCriProxy without the runtime's address", () => {
    // @ts-expect-error upstream (containerd's socket) is required
    const proxy = () => createCriProxy({ host: createHost(), listen: "/run/hp/cri.sock" });
    expectTypeOf(proxy).toBeFunction();
  });
});
