import {
  createHost,
  createRegistry,
  defaultRegistry,
  PluginRegistrationError,
  registerContainerPlugin,
  type ContainerPlugin,
  type HookContext,
  type PluginRegistry,
} from "hookplugins";
import { describe, expect, it } from "vitest";
import { config, setup } from "./helpers.js";

/** Registers `plugin` (unchecked, as JavaScript callers could) and returns the error it throws. */
function registrationError(register: (plugin: never) => unknown, plugin: unknown): PluginRegistrationError {
  try {
    register(plugin as never);
  } catch (error) {
    expect(error).toBeInstanceOf(PluginRegistrationError);
    return error as PluginRegistrationError;
  }
  throw new Error("expected registration to throw");
}

describe("registering plugins", () => {
  it("returns an unregister function that removes the plugin from the registry and from the next host call", async () => {
    const { registry, host } = setup();
    const unregister = registry.registerContainerPlugin({
      name: "labeler",
      preCreate(_ctx, c) {
        c.Labels = { seen: "yes" };
      },
    });
    expect((await host.container.preCreate(config())).Labels).toEqual({ seen: "yes" });
    unregister();
    expect(registry.list()).toEqual([]);
    expect((await host.container.preCreate(config())).Labels).toBeUndefined();
  });

  it("ignores a second call of an unregister function, even after the name was registered again", () => {
    const registry = createRegistry();
    const first = registry.registerContainerPlugin({ name: "p", preCreate() {} });
    first();
    registry.registerContainerPlugin({ name: "p", preStart() {} });
    first();
    expect(registry.list().map((p) => [p.name, p.hooks])).toEqual([["p", ["ContainerPlugin.preStart"]]]);
  });

  it("keeps registries made by createRegistry isolated from each other and from the default registry", () => {
    const one = createRegistry();
    const two = createRegistry();
    one.registerContainerPlugin({ name: "only-in-one", preCreate() {} });
    expect(one.list().map((p) => p.name)).toEqual(["only-in-one"]);
    expect(two.list()).toEqual([]);
    expect(defaultRegistry.list().some((p) => p.name === "only-in-one")).toBe(false);
  });

  it("registers into the default registry through the top-level functions, which a host without a registry option uses", async () => {
    const unregister = registerContainerPlugin({
      name: "core-test-default",
      preCreate(_ctx, c) {
        c.Hostname = "from-default";
      },
    });
    const host = createHost();
    try {
      expect(defaultRegistry.list("ContainerPlugin").some((p) => p.name === "core-test-default")).toBe(true);
      expect((await host.container.preCreate(config())).Hostname).toBe("from-default");
    } finally {
      unregister();
      host.close();
    }
    expect(defaultRegistry.list().some((p) => p.name === "core-test-default")).toBe(false);
  });

  it("registers a plugin module's plugins in the default registry just by importing the module", async () => {
    const module = await import("./fixtures/selfRegisteringPlugin.js");
    const host = createHost();
    try {
      expect(defaultRegistry.list().map((p) => p.name)).toContain("core-test-self-registering");
      expect((await host.container.preCreate(config())).Labels).toEqual({ "self-registered": "yes" });
    } finally {
      module.unregisterSelfRegistering();
      host.close();
    }
  });

  it("accepts one object implementing several interfaces under each of them, and the host calls each method", async () => {
    const { registry, host } = setup();
    const calls: string[] = [];
    const multi = {
      name: "multi",
      preCreate: (ctx: HookContext) => void calls.push(ctx.hook),
      preStopHook: (ctx: HookContext) => void calls.push(ctx.hook),
      preVolumeCreate: (ctx: HookContext) => void calls.push(ctx.hook),
    };
    registry.registerContainerPlugin(multi);
    registry.registerDaemonPlugin(multi);
    registry.registerVolumePlugin(multi);
    await host.container.preCreate(config());
    await host.daemon.preStop();
    await host.volume.preVolumeCreate({});
    expect(calls).toEqual(["ContainerPlugin.preCreate", "DaemonPlugin.preStopHook", "VolumePlugin.preVolumeCreate"]);
    expect(registry.list().map((p) => `${p.type}:${p.name}`)).toEqual([
      "ContainerPlugin:multi",
      "DaemonPlugin:multi",
      "VolumePlugin:multi",
    ]);
  });

  it("allows the same name under a different plugin type", () => {
    const registry = createRegistry();
    registry.registerContainerPlugin({ name: "shared-name", preCreate() {} });
    expect(() => registry.registerImagePlugin({ name: "shared-name", postPull() {} })).not.toThrow();
    expect(registry.list().map((p) => p.type)).toEqual(["ContainerPlugin", "ImagePlugin"]);
  });

  it("accepts a plugin implementing a single method and records which hook points it implements", () => {
    const registry = createRegistry();
    registry.registerContainerPlugin({ name: "one", postUpdate() {} });
    expect(registry.list()[0]?.hooks).toEqual(["ContainerPlugin.postUpdate"]);
  });

  it("accepts a class instance whose hook methods live on its prototype and calls them with the instance as this", async () => {
    class Tagger implements ContainerPlugin {
      readonly name = "tagger";
      readonly tag = "from-class";
      preCreate(_ctx: HookContext, c: { Labels?: Record<string, string> }): void {
        c.Labels = { tag: this.tag };
      }
    }
    const { registry, host } = setup();
    registry.registerContainerPlugin(new Tagger());
    expect((await host.container.preCreate(config())).Labels).toEqual({ tag: "from-class" });
  });

  it("lists plugins in registration order with their metadata and defaults", () => {
    const registry = createRegistry();
    registry.registerContainerPlugin({ name: "b", priority: 5, version: "1.0.0", description: "d", author: "me", preCreate() {} });
    registry.registerContainerPlugin({ name: "a", timeoutMs: 50, failPolicy: "fail-open", preStart() {} });
    expect(registry.list().map(({ name, priority, version, description, author, timeoutMs, failPolicy }) => ({ name, priority, version, description, author, timeoutMs, failPolicy }))).toEqual([
      { name: "b", priority: 5, version: "1.0.0", description: "d", author: "me", timeoutMs: undefined, failPolicy: "fail-closed" },
      { name: "a", priority: 0, version: undefined, description: undefined, author: undefined, timeoutMs: 50, failPolicy: "fail-open" },
    ]);
  });

  it("bumps the registry version and tells subscribers on every registration and unregistration", () => {
    const registry = createRegistry();
    const changes: string[] = [];
    registry.subscribe((change) => changes.push(`${change.kind}:${change.plugin.name}`));
    const before = registry.version;
    const unregister = registry.registerDaemonPlugin({ name: "d", preStartHook() {} });
    unregister();
    expect(registry.version).toBe(before + 2);
    expect(changes).toEqual(["registered:d", "unregistered:d"]);
  });

  it("unregisters every plugin on clear()", () => {
    const registry = createRegistry();
    registry.registerContainerPlugin({ name: "a", preCreate() {} });
    registry.registerImagePlugin({ name: "b", postPull() {} });
    registry.clear();
    expect(registry.list()).toEqual([]);
  });

  it("unregisters only the plugins registered after a given registration with unregisterAfter, telling subscribers of each", () => {
    const registry = createRegistry();
    registry.registerContainerPlugin({ name: "kept", preCreate: () => undefined });
    const seq = registry.list()[0]!.seq;
    registry.registerContainerPlugin({ name: "half1", preCreate: () => undefined });
    registry.registerImagePlugin({ name: "half2", resolveImage: () => undefined });
    const gone: string[] = [];
    registry.subscribe((change) => void (change.kind === "unregistered" && gone.push(change.plugin.name)));
    registry.unregisterAfter(seq);
    expect(registry.list().map((p) => p.name)).toEqual(["kept"]);
    expect(gone).toEqual(["half2", "half1"]);
  });

  it("sees a plugin registered after createHost on the host's next call", async () => {
    const { registry, host } = setup();
    expect((await host.container.preCreate(config())).Hostname).toBeUndefined();
    registry.registerContainerPlugin({
      name: "late",
      preCreate(_ctx, c) {
        c.Hostname = "late";
      },
    });
    expect((await host.container.preCreate(config())).Hostname).toBe("late");
  });

  it("stops calling a plugin unregistered after createHost on the host's next call", async () => {
    const { registry, host } = setup();
    let calls = 0;
    const unregister = registry.registerImagePlugin({ name: "counter", postPull: () => void calls++ });
    await host.image.postPull("overlayfs", {});
    unregister();
    await host.image.postPull("overlayfs", {});
    expect(calls).toBe(1);
  });
});

describe("PluginRegistrationError", () => {
  const registry: PluginRegistry = createRegistry();
  const registerContainer = registry.registerContainerPlugin as (plugin: never) => unknown;

  it.each([
    ["missing", { preCreate() {} }],
    ["empty", { name: "", preCreate() {} }],
    ["blank", { name: "   ", preCreate() {} }],
    ["not a string", { name: 42, preCreate() {} }],
  ])("rejects a plugin whose name is %s and asks for a non-empty string name", (_label, plugin) => {
    const error = registrationError(registerContainer, plugin);
    expect(error.hook).toBe("name");
    expect(error.pluginType).toBe("ContainerPlugin");
    expect(error.message).toMatch(/non-empty string "name"/);
  });

  it("rejects a second plugin of the same type with the same name and says to rename or unregister", () => {
    const r = createRegistry();
    r.registerContainerPlugin({ name: "dup", preCreate() {} });
    const error = registrationError(r.registerContainerPlugin as (plugin: never) => unknown, { name: "dup", preStart() {} });
    expect(error.plugin).toBe("dup");
    expect(error.message).toMatch(/already registered/);
    expect(error.message).toMatch(/rename one of them or unregister the first/);
    expect(r.list()).toHaveLength(1);
  });

  it("rejects the same object registered twice under the same type", () => {
    const r = createRegistry();
    const plugin = { name: "twice", preCreate() {} };
    r.registerContainerPlugin(plugin);
    const error = registrationError(r.registerContainerPlugin as (plugin: never) => unknown, plugin);
    expect(error.message).toMatch(/already registered/);
  });

  it("rejects an object with no method of the interface and points to the interface it does implement", () => {
    const error = registrationError(registerContainer, { name: "volume-only", preVolumeCreate() {} });
    expect(error.plugin).toBe("volume-only");
    expect(error.message).toMatch(/implements none of the ContainerPlugin methods/);
    expect(error.message).toMatch(/registerVolumePlugin/);
  });

  it.each(["PreCreate", "precreate", "PRECREATE", "preCreat"])("rejects the near miss %s of a hook name with \"did you mean preCreate?\"", (member) => {
    const error = registrationError(registerContainer, { name: "typo", preStart() {}, [member]() {} });
    expect(error.hook).toBe(member);
    expect(error.message).toMatch(/did you mean preCreate\?/);
  });

  it("rejects an object with a name but no hook method at all", () => {
    const error = registrationError(registerContainer, { name: "empty" });
    expect(error.message).toMatch(/implements none of the ContainerPlugin methods \(preCreate, preStart, preCreateEndpoint, postStart, onExit, preUpdate, postUpdate\)/);
  });

  it("rejects a near miss of a metadata key", () => {
    const error = registrationError(registerContainer, { name: "typo", priorty: 3, preCreate() {} });
    expect(error.message).toMatch(/did you mean priority\?/);
  });

  it.each([
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["-Infinity", Number.NEGATIVE_INFINITY],
    ["the string \"5\"", "5"],
  ])("rejects the non-finite priority %s and asks for a finite number", (_label, priority) => {
    const error = registrationError(registerContainer, { name: "prio", priority, preCreate() {} });
    expect(error.hook).toBe("priority");
    expect(error.message).toMatch(/priority must be a finite number/);
  });

  it("rejects a hook member that is not a function", () => {
    const error = registrationError(registerContainer, { name: "not-fn", preCreate: "yes" });
    expect(error.hook).toBe("preCreate");
    expect(error.message).toMatch(/preCreate must be a function/);
  });

  it.each([
    ["a negative timeoutMs", { timeoutMs: -1 }, "timeoutMs"],
    ["an unknown failPolicy", { failPolicy: "fail-sometimes" }, "failPolicy"],
    ["a non-string version", { version: 2 }, "version"],
  ])("rejects %s", (_label, extra, member) => {
    const error = registrationError(registerContainer, { name: "meta", preCreate() {}, ...extra });
    expect(error.hook).toBe(member);
  });

  it("rejects a value that is not an object", () => {
    const error = registrationError(registerContainer, "preCreate");
    expect(error.message).toMatch(/expected a plugin object/);
  });

  it("leaves the registry unchanged when a registration is rejected", () => {
    const r = createRegistry();
    const version = r.version;
    expect(() => r.registerContainerPlugin({ name: "bad", priority: Number.NaN, preCreate() {} })).toThrow(PluginRegistrationError);
    expect(r.list()).toEqual([]);
    expect(r.version).toBe(version);
  });
});
