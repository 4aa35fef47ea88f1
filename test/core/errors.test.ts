import {
  PluginAbortedError,
  PluginHookError,
  PluginRegistrationError,
  PluginTimeoutError,
} from "hookplugins";
import { describe, expect, it } from "vitest";
import { config, rejectionOf, setup, stoppingDrivers } from "./helpers.js";

describe("PluginHookError", () => {
  it("names plugin and hook and keeps the cause when a sync method throws", async () => {
    const { registry, host } = setup();
    const cause = new Error("sync boom");
    registry.registerContainerPlugin({
      name: "thrower",
      preCreate() {
        throw cause;
      },
    });
    const error = await rejectionOf(host.container.preCreate(config()));
    expect(error).toBeInstanceOf(PluginHookError);
    expect(error).toMatchObject({ plugin: "thrower", hook: "ContainerPlugin.preCreate", cause, name: "PluginHookError" });
    expect((error as Error).message).toBe('plugin "thrower" failed in ContainerPlugin.preCreate: sync boom');
  });

  it("wraps an async rejection the same way", async () => {
    const { registry, host } = setup();
    const cause = new TypeError("async boom");
    registry.registerVolumePlugin({ name: "rejecter", preVolumeCreate: async () => Promise.reject(cause) });
    const error = await rejectionOf(host.volume.preVolumeCreate({}));
    expect(error).toBeInstanceOf(PluginHookError);
    expect(error).toMatchObject({ plugin: "rejecter", hook: "VolumePlugin.preVolumeCreate", cause });
    expect((error as Error).message).toBe('plugin "rejecter" failed in VolumePlugin.preVolumeCreate: async boom');
  });

  it("wraps a thrown string and uses it as the cause message", async () => {
    const { registry, host } = setup();
    registry.registerImagePlugin({
      name: "stringy",
      postPull() {
        throw "registry unreachable";
      },
    });
    const error = await rejectionOf(host.image.postPull("overlayfs", {}));
    expect(error).toBeInstanceOf(PluginHookError);
    expect((error as PluginHookError).cause).toBe("registry unreachable");
    expect((error as Error).message).toBe('plugin "stringy" failed in ImagePlugin.postPull: registry unreachable');
  });

  it("wraps a rejected plain object and shows it in the message", async () => {
    const { registry, host } = setup();
    const thrown = { code: 42, reason: "quota" };
    registry.registerContainerPlugin({ name: "objecty", postUpdate: () => Promise.reject(thrown) });
    const error = await rejectionOf(host.container.postUpdate("/rootfs", []));
    expect(error).toBeInstanceOf(PluginHookError);
    expect((error as PluginHookError).cause).toBe(thrown);
    expect((error as Error).message).toMatch(/^plugin "objecty" failed in ContainerPlugin\.postUpdate: /);
    expect((error as Error).message).toContain('{"code":42,"reason":"quota"}');
  });

  it("survives a thrown value that cannot be turned into JSON", async () => {
    const { registry, host } = setup();
    const cyclic: Record<string, unknown> = {};
    cyclic["self"] = cyclic;
    registry.registerContainerPlugin({
      name: "cyclic",
      preCreate() {
        throw cyclic;
      },
    });
    const error = await rejectionOf(host.container.preCreate(config()));
    expect((error as PluginHookError).cause).toBe(cyclic);
    expect((error as Error).message).toMatch(/^plugin "cyclic" failed in ContainerPlugin\.preCreate: /);
  });

  it.each(stoppingDrivers.map((d) => [d.hook, d] as const))(
    "%s rejects with a PluginHookError naming the failing plugin and the hook",
    async (hook, driver) => {
      const { registry, host } = setup();
      driver.register(registry, { name: "failing" }, () => {
        throw new Error("nope");
      });
      const error = await rejectionOf(driver.call(host));
      expect(error).toBeInstanceOf(PluginHookError);
      expect(error).toMatchObject({ plugin: "failing", hook });
      expect((error as Error).message).toBe(`plugin "failing" failed in ${hook}: nope`);
    },
  );

  it("stops the chain at a failing fail-closed plugin", async () => {
    const { registry, host } = setup();
    const calls: string[] = [];
    registry.registerContainerPlugin({
      name: "first",
      priority: 1,
      preCreate() {
        calls.push("first");
        throw new Error("x");
      },
    });
    registry.registerContainerPlugin({ name: "second", preCreate: () => void calls.push("second") });
    await rejectionOf(host.container.preCreate(config()));
    expect(calls).toEqual(["first"]);
  });
});

describe("error classes", () => {
  it("makes PluginTimeoutError and PluginAbortedError kinds of PluginHookError and every class an Error", () => {
    const timeout = new PluginTimeoutError("p", "ImagePlugin.postPull", 50);
    const aborted = new PluginAbortedError("p", "ImagePlugin.postPull", new Error("stop"));
    expect(timeout).toBeInstanceOf(PluginHookError);
    expect(aborted).toBeInstanceOf(PluginHookError);
    expect(new PluginRegistrationError("p", "ImagePlugin", "bad")).toBeInstanceOf(Error);
    expect([timeout.name, aborted.name]).toEqual(["PluginTimeoutError", "PluginAbortedError"]);
  });

  it("gives PluginRegistrationError the plugin, its type and the member at fault", () => {
    const error = new PluginRegistrationError("p", "CriPlugin", "fix it", "priority");
    expect(error).toMatchObject({ plugin: "p", pluginType: "CriPlugin", hook: "priority", name: "PluginRegistrationError" });
    expect(error.message).toBe('cannot register CriPlugin "p": fix it');
  });
});
