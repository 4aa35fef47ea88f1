import { createHost, hookPoints } from "hookplugins";
import { describe, expect, it } from "vitest";
import { config, drivers, setup } from "./helpers.js";

const allHookNames = [
  "ContainerPlugin.preCreate",
  "ContainerPlugin.preStart",
  "ContainerPlugin.preCreateEndpoint",
  "ContainerPlugin.postStart",
  "ContainerPlugin.onExit",
  "ContainerPlugin.preUpdate",
  "ContainerPlugin.postUpdate",
  "DaemonPlugin.preStartHook",
  "DaemonPlugin.preStopHook",
  "VolumePlugin.preVolumeCreate",
  "CriPlugin.preCreateContainer",
  "APIPlugin.updateHandler",
  "ImagePlugin.postPull",
  "ImagePlugin.resolveImage",
  "CliPlugin.updateCommands",
];

describe("host.explain()", () => {
  it("has one key for each of the 15 hook points, also when nothing is registered", () => {
    const { host } = setup();
    const explanation = host.explain();
    expect(Object.keys(explanation).sort()).toEqual([...allHookNames].sort());
    expect(hookPoints.map((p) => p.name).sort()).toEqual([...allHookNames].sort());
    expect(Object.values(explanation).every((list) => Array.isArray(list) && list.length === 0)).toBe(true);
  });

  it.each(drivers.map((d) => [d.hook, d] as const))(
    "lists %s's plugins as {plugin, priority, enabled} in the order the next call runs them",
    async (hook, driver) => {
      const { registry, host } = setup();
      const calls: string[] = [];
      for (const [name, priority] of [["a", 0], ["b", 2], ["c", 0], ["d", -3], ["e", 2]] as const) {
        driver.register(registry, { name, priority }, (ctx) => calls.push(ctx.plugin));
      }
      const listed = host.explain()[hook];
      await driver.call(host);
      expect(listed.map((e) => e.plugin)).toEqual(calls);
      expect(listed.find((e) => e.plugin === "d")).toEqual({ plugin: "d", priority: -3, enabled: true });
    },
  );

  it("lists a plugin only under the hook points it implements", () => {
    const { registry, host } = setup();
    registry.registerContainerPlugin({ name: "only-create", preCreate() {} });
    const explanation = host.explain();
    expect(explanation["ContainerPlugin.preCreate"]).toEqual([{ plugin: "only-create", priority: 0, enabled: true }]);
    expect(Object.entries(explanation).filter(([, list]) => list.length > 0).map(([name]) => name)).toEqual(["ContainerPlugin.preCreate"]);
  });

  it("shows plugins disabled by createHost with enabled:false, and calls skip them", async () => {
    const { registry, host } = setup({ disabled: ["off"] });
    const calls: string[] = [];
    registry.registerContainerPlugin({ name: "off", priority: 1, postUpdate: () => void calls.push("off") });
    registry.registerContainerPlugin({ name: "on", postUpdate: () => void calls.push("on") });
    expect(host.explain()["ContainerPlugin.postUpdate"]).toEqual([
      { plugin: "off", priority: 1, enabled: false },
      { plugin: "on", priority: 0, enabled: true },
    ]);
    await host.container.postUpdate("/rootfs", []);
    expect(calls).toEqual(["on"]);
    expect(host.isEnabled("off")).toBe(false);
  });

  it("applies disable() to every interface the name is registered under", async () => {
    const { registry, host } = setup();
    const calls: string[] = [];
    const multi = { name: "multi", preCreate: () => void calls.push("create"), postPull: () => void calls.push("pull") };
    registry.registerContainerPlugin(multi);
    registry.registerImagePlugin(multi);
    host.disable("multi");
    await host.container.preCreate(config());
    await host.image.postPull("overlayfs", {});
    expect(calls).toEqual([]);
    expect(host.explain()["ImagePlugin.postPull"]).toEqual([{ plugin: "multi", priority: 0, enabled: false }]);
  });

  it("keeps disable() to the host it was called on when two hosts share a registry", async () => {
    const { registry, host } = setup();
    const other = createHost({ registry });
    let calls = 0;
    registry.registerImagePlugin({ name: "shared", postPull: () => void calls++ });
    host.disable("shared");
    await host.image.postPull("overlayfs", {});
    await other.image.postPull("overlayfs", {});
    expect(calls).toBe(1);
    expect(other.explain()["ImagePlugin.postPull"]).toEqual([{ plugin: "shared", priority: 0, enabled: true }]);
    other.close();
  });

  it("brings a disabled plugin back with enable()", async () => {
    const { registry, host } = setup({ disabled: ["toggle"] });
    let calls = 0;
    registry.registerImagePlugin({ name: "toggle", postPull: () => void calls++ });
    await host.image.postPull("overlayfs", {});
    host.enable("toggle");
    await host.image.postPull("overlayfs", {});
    expect(calls).toBe(1);
    expect(host.isEnabled("toggle")).toBe(true);
    expect(host.explain()["ImagePlugin.postPull"]).toEqual([{ plugin: "toggle", priority: 0, enabled: true }]);
  });

  it("resolves with the input at once when every plugin of a hook point is disabled", async () => {
    const { registry, host } = setup();
    registry.registerContainerPlugin({
      name: "off",
      preCreate() {
        throw new Error("must not run");
      },
    });
    host.disable("off");
    const input = config();
    expect(await host.container.preCreate(input)).toBe(input);
  });

  it("reflects plugins registered and unregistered after createHost", () => {
    const { registry, host } = setup();
    const unregister = registry.registerCriPlugin({ name: "cri", preCreateContainer() {} });
    expect(host.explain()["CriPlugin.preCreateContainer"]).toHaveLength(1);
    unregister();
    expect(host.explain()["CriPlugin.preCreateContainer"]).toEqual([]);
  });
});
