/**
 * Type-level tests of the CRI relay's public types: `npm test` runs tsc over this file, so every `@ts-expect-error`
 * must really be an error and every expectTypeOf must hold; vitest then runs the few runtime parts (registrations on
 * private registries; nothing listens).
 */
import {
  createHost,
  createRegistry,
  registerCriPlugin,
  type ContainerCreateConfig,
  type CriConfigOf,
  type CriContainerConfig,
  type CriHostTypes,
  type CriPlugin,
  type CriPodSandboxConfig,
  type CriPulledImage,
  type CriRelayPlugin,
  type CriSandboxMeta,
  type DefaultHostTypes,
  type HookContext,
  type Host,
  type HostTypes,
  type MaybePromise,
  type SandboxMeta,
} from "hookplugins";
import { createCriProxy, type CriProxy, type CriProxyOptions } from "hookplugins/cri";
import { describe, expect, expectTypeOf, it } from "vitest";

/** The keys of T that an object literal must give. */
type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];

describe("CriRelayPlugin", () => {
  it("gives preCreateContainer CRI's own container config and the request's sandbox", () => {
    const plugin: CriRelayPlugin = {
      name: "cri-typed",
      preCreateContainer(ctx, config, sandbox) {
        expectTypeOf(ctx).toEqualTypeOf<HookContext>();
        expectTypeOf(config).toEqualTypeOf<CriContainerConfig>();
        expectTypeOf(sandbox).toEqualTypeOf<CriSandboxMeta>();
        expectTypeOf(sandbox.ID).toEqualTypeOf<string>();
        expectTypeOf(sandbox.Config).toEqualTypeOf<CriPodSandboxConfig>();
        expectTypeOf(config.linux).toEqualTypeOf<CriContainerConfig["linux"]>();
        config.envs = [...(config.envs ?? []), { key: "A", value: "1" }];
        return config;
      },
    };
    expectTypeOf(plugin).toEqualTypeOf<CriPlugin<CriContainerConfig, CriSandboxMeta>>();
    expectTypeOf<NonNullable<CriRelayPlugin["preCreateContainer"]>>().returns.toEqualTypeOf<MaybePromise<CriContainerConfig | void>>();
    expect(plugin.name).toBe("cri-typed");
  });

  it("does not compile a Docker-style edit of CRI's config", () => {
    const plugin: CriRelayPlugin = {
      name: "docker-style",
      preCreateContainer(_ctx, config) {
        // @ts-expect-error CRI's config has envs ({ key, value }[]), not Docker's Env (string[])
        config.Env = ["A=1"];
        // @ts-expect-error CRI's memory limit is linux.resources.memory_limit_in_bytes, not HostConfig.Memory
        void config.HostConfig;
      },
    };
    expect(plugin.name).toBe("docker-style");
  });

  it("is the CriPlugin of CriHostTypes", () => {
    expectTypeOf<CriConfigOf<CriHostTypes>>().toEqualTypeOf<CriContainerConfig>();
    expectTypeOf<CriHostTypes["sandboxMeta"]>().toEqualTypeOf<CriSandboxMeta>();
    expectTypeOf<CriHostTypes["image"]>().toEqualTypeOf<CriPulledImage>();
    expectTypeOf<CriHostTypes["config"]>().toEqualTypeOf<ContainerCreateConfig>();
    // the default host types keep Docker's config for CriPlugin
    expectTypeOf<CriConfigOf<DefaultHostTypes>>().toEqualTypeOf<ContainerCreateConfig>();
    expectTypeOf<DefaultHostTypes["sandboxMeta"]>().toEqualTypeOf<SandboxMeta>();
  });
});

describe("CRI's 64-bit fields", () => {
  it("are typed number | bigint, as the codec gives them (a bigint beyond Number.MAX_SAFE_INTEGER)", () => {
    expectTypeOf<NonNullable<NonNullable<NonNullable<CriContainerConfig["linux"]>["resources"]>["memory_limit_in_bytes"]>>().toEqualTypeOf<number | bigint>();
  });
});

describe("registerCriPlugin<CriHostTypes>", () => {
  it("takes a CriRelayPlugin and a plugin written inline against CRI's types", () => {
    const registry = createRegistry<CriHostTypes>();
    const relay: CriRelayPlugin = { name: "relay", preCreateContainer: (_ctx, config) => config };
    registry.registerCriPlugin(relay);
    registry.registerCriPlugin({
      name: "inline",
      preCreateContainer(_ctx, config, sandbox) {
        expectTypeOf(config).toEqualTypeOf<CriContainerConfig>();
        expectTypeOf(sandbox).toEqualTypeOf<CriSandboxMeta>();
      },
    });
    const viaDefault = (): unknown => registerCriPlugin<CriHostTypes>(relay); // typed here, never run: it would change the default registry
    expect(typeof viaDefault).toBe("function");
    expect(registry.list().map((p) => p.name)).toEqual(["relay", "inline"]);
  });

  it("refuses a plugin typed for Docker's config", () => {
    const dockerTyped: CriPlugin = { name: "docker-typed", preCreateContainer: (_ctx, config: ContainerCreateConfig) => ({ ...config, Env: [] }) };
    const registry = createRegistry<CriHostTypes>();
    const wrong = (): unknown => [
      // @ts-expect-error a CriPlugin<ContainerCreateConfig, SandboxMeta> does not take CRI's config and sandbox
      registerCriPlugin<CriHostTypes>(dockerTyped),
      // @ts-expect-error the same on a registry of CriHostTypes
      registry.registerCriPlugin(dockerTyped),
      registry.registerCriPlugin({
        name: "inline-docker",
        // @ts-expect-error config is CriContainerConfig here, not ContainerCreateConfig
        preCreateContainer: (_ctx: HookContext, config: ContainerCreateConfig) => config,
      }),
    ];
    expect(typeof wrong).toBe("function");
    expect(registry.list()).toEqual([]);
  });

  it("refuses a CriRelayPlugin on a registry of the default (Docker) types", () => {
    const relay: CriRelayPlugin = { name: "relay", preCreateContainer: (_ctx, config) => config };
    const registry = createRegistry();
    // @ts-expect-error the default types give CriPlugin Docker's config and PouchContainer's SandboxMeta
    const wrong = (): unknown => registry.registerCriPlugin(relay);
    expect(typeof wrong).toBe("function");
  });
});

describe("createCriProxy's options", () => {
  it("require host, listen and upstream, and nothing else", () => {
    expectTypeOf<RequiredKeys<CriProxyOptions>>().toEqualTypeOf<"host" | "listen" | "upstream">();
    expectTypeOf<CriProxyOptions["listen"]>().toEqualTypeOf<string>();
    expectTypeOf<CriProxyOptions["upstream"]>().toEqualTypeOf<string>();
    expectTypeOf(createCriProxy).parameter(0).toEqualTypeOf<CriProxyOptions>();
    expectTypeOf(createCriProxy).returns.toEqualTypeOf<Promise<CriProxy>>();
  });

  it("do not compile without each required option", () => {
    const host = createHost({ registry: createRegistry() });
    // @ts-expect-error host is required
    const noHost: CriProxyOptions = { listen: "/run/relay.sock", upstream: "/run/containerd/containerd.sock" };
    // @ts-expect-error listen is required
    const noListen: CriProxyOptions = { host, upstream: "/run/containerd/containerd.sock" };
    // @ts-expect-error upstream is required
    const noUpstream: CriProxyOptions = { host, listen: "/run/relay.sock" };
    // @ts-expect-error the runtime address is a string, not a URL object
    const urlUpstream: CriProxyOptions = { host, listen: "/run/relay.sock", upstream: new URL("unix:///run/containerd/containerd.sock") };
    expect([noHost, noListen, noUpstream, urlUpstream]).toHaveLength(4);
    void host.close();
  });

  it("take a Host<CriHostTypes> (and a host of the default types)", () => {
    const criHost: Host<CriHostTypes> = createHost<CriHostTypes>({ registry: createRegistry<CriHostTypes>() });
    const defaultHost: Host = createHost({ registry: createRegistry() });
    const options: CriProxyOptions = { host: criHost, listen: "/run/relay.sock", upstream: "unix:///run/containerd/containerd.sock" };
    expectTypeOf(criHost).toExtend<CriProxyOptions["host"]>();
    expectTypeOf(defaultHost).toExtend<CriProxyOptions["host"]>();
    expectTypeOf<Host<CriHostTypes>>().toExtend<Host<HostTypes>>();
    const start = (): Promise<CriProxy> => createCriProxy(options); // typed, not run: it would listen
    const startDefault = (): Promise<CriProxy> => createCriProxy({ host: defaultHost, listen: "/run/relay.sock", upstream: "/run/containerd/containerd.sock" });
    expect([typeof start, typeof startDefault]).toEqual(["function", "function"]);
    void criHost.close();
    void defaultHost.close();
  });

  it("take a host whose CriPlugin sees CRI's config: its preCreateContainer is typed with CriContainerConfig and CriSandboxMeta", () => {
    const criHost = createHost<CriHostTypes>({ registry: createRegistry<CriHostTypes>() });
    expectTypeOf(criHost.cri.preCreateContainer).parameter(0).toEqualTypeOf<CriContainerConfig>();
    expectTypeOf(criHost.cri.preCreateContainer).parameter(1).toEqualTypeOf<CriSandboxMeta>();
    expectTypeOf(criHost.cri.preCreateContainer).returns.toEqualTypeOf<Promise<CriContainerConfig>>();
    void criHost.close();
  });
});
