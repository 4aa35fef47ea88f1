import { PluginHookError, type HookEndEvent, type HookErrorEvent, type HookStartEvent, type RegisteredPlugin } from "hookplugins";
import { describe, expect, it } from "vitest";
import { config, rejectionOf, setup, sleep } from "./helpers.js";

/** Records hookStart/hookEnd/hookError as "start a", "end a", "error a". */
function trace(host: ReturnType<typeof setup>["host"]): string[] {
  const log: string[] = [];
  host.events.on("hookStart", (e) => log.push(`start ${e.plugin}`));
  host.events.on("hookEnd", (e) => log.push(`end ${e.plugin}`));
  host.events.on("hookError", (e) => log.push(`error ${e.plugin}`));
  return log;
}

describe("host events", () => {
  it("emits registered and unregistered with the registry record for changes after createHost", () => {
    const { registry, host } = setup();
    const seen: string[] = [];
    host.events.on("registered", (p: RegisteredPlugin) => seen.push(`registered ${p.type} ${p.name}`));
    host.events.on("unregistered", (p: RegisteredPlugin) => seen.push(`unregistered ${p.type} ${p.name}`));
    const unregister = registry.registerVolumePlugin({ name: "vol", preVolumeCreate() {} });
    unregister();
    expect(seen).toEqual(["registered VolumePlugin vol", "unregistered VolumePlugin vol"]);
  });

  it("stops emitting registry events after host.close()", () => {
    const { registry, host } = setup();
    let count = 0;
    host.events.on("registered", () => count++);
    host.close();
    registry.registerVolumePlugin({ name: "vol", preVolumeCreate() {} });
    expect(count).toBe(0);
  });

  it("emits hookStart and hookEnd around each plugin call, in call order", async () => {
    const { registry, host } = setup();
    const log = trace(host);
    registry.registerContainerPlugin({ name: "a", priority: 1, preCreate() {} });
    registry.registerContainerPlugin({ name: "b", preCreate: () => sleep(1) });
    await host.container.preCreate(config());
    expect(log).toEqual(["start a", "end a", "start b", "end b"]);
  });

  it("gives hookStart the plugin and hook, and hookEnd the wall time of the call in durationMs", async () => {
    const { registry, host } = setup();
    const starts: HookStartEvent[] = [];
    const ends: HookEndEvent[] = [];
    host.events.on("hookStart", (e) => starts.push(e));
    host.events.on("hookEnd", (e) => ends.push(e));
    registry.registerImagePlugin({ name: "slow", postPull: () => sleep(30) });
    await host.image.postPull("overlayfs", {});
    expect(starts).toEqual([{ plugin: "slow", hook: "ImagePlugin.postPull" }]);
    expect(ends[0]).toMatchObject({ plugin: "slow", hook: "ImagePlugin.postPull" });
    expect(ends[0]?.durationMs).toBeGreaterThanOrEqual(25);
    expect(ends[0]?.durationMs).toBeLessThan(5_000);
  });

  it("emits hookError instead of hookEnd for a failing call, with the PluginHookError and the policy", async () => {
    const { registry, host } = setup();
    const log = trace(host);
    const errors: HookErrorEvent[] = [];
    host.events.on("hookError", (e) => errors.push(e));
    registry.registerContainerPlugin({
      name: "bad",
      postUpdate() {
        throw new Error("no");
      },
    });
    const error = await rejectionOf(host.container.postUpdate("/rootfs", []));
    expect(log).toEqual(["start bad", "error bad"]);
    expect(errors[0]).toMatchObject({ plugin: "bad", hook: "ContainerPlugin.postUpdate", failPolicy: "fail-closed" });
    expect(errors[0]?.error).toBeInstanceOf(PluginHookError);
    expect(errors[0]?.error).toBe(error);
  });

  it("emits hookError for an invalid return value", async () => {
    const { registry, host } = setup();
    const log = trace(host);
    registry.registerContainerPlugin({ name: "bad-return", preCreate: (() => 7) as never });
    await rejectionOf(host.container.preCreate(config()));
    expect(log).toEqual(["start bad-return", "error bad-return"]);
  });

  it("starts emitting call events for a listener added after the host already ran calls", async () => {
    const { registry, host } = setup();
    registry.registerContainerPlugin({ name: "p", preCreate() {} });
    await host.container.preCreate(config());
    const log = trace(host);
    await host.container.preCreate(config());
    expect(log).toEqual(["start p", "end p"]);
  });

  it("emits no call events for a disabled plugin", async () => {
    const { registry, host } = setup({ disabled: ["off"] });
    const log = trace(host);
    registry.registerContainerPlugin({ name: "off", priority: 1, preCreate() {} });
    registry.registerContainerPlugin({ name: "on", preCreate() {} });
    await host.container.preCreate(config());
    expect(log).toEqual(["start on", "end on"]);
  });

  it("emits call events for daemon start and stop", async () => {
    const { registry, host } = setup();
    const hooks: string[] = [];
    host.events.on("hookEnd", (e) => hooks.push(e.hook));
    registry.registerDaemonPlugin({ name: "d", preStartHook() {}, preStopHook() {} });
    await host.daemon.preStart();
    await host.daemon.preStop();
    expect(hooks).toEqual(["DaemonPlugin.preStartHook", "DaemonPlugin.preStopHook"]);
  });
});

/** Collects the unhandled rejections that happen while `body` runs and a few ticks after. */
async function unhandledDuring(body: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const record = (reason: unknown): void => void seen.push(reason);
  process.on("unhandledRejection", record);
  try {
    await body();
    await sleep(20);
  } finally {
    process.off("unhandledRejection", record);
  }
  return seen;
}

describe("hookEnd/hookError while nobody listens to hookStart", () => {
  it("go out when the run awaits a plugin's promise and when it is over, in call order", async () => {
    const { registry, host } = setup();
    const log: string[] = [];
    host.events.on("hookEnd", (e) => log.push(`end ${e.plugin}`));
    registry.registerContainerPlugin({ name: "a", priority: 3, preCreate: () => void log.push("call a") });
    registry.registerContainerPlugin({ name: "b", priority: 2, preCreate: () => void log.push("call b") });
    registry.registerContainerPlugin({ name: "c", priority: 1, preCreate: async () => void log.push("call c") });
    registry.registerContainerPlugin({ name: "d", preCreate: () => void log.push("call d") });
    await host.container.preCreate(config());
    expect(log).toEqual(["call a", "call b", "call c", "end a", "end b", "call d", "end c", "end d"]);
  });

  it("make the call reject with a listener's error, aborting the pending plugin, without an unhandled rejection", async () => {
    const { registry, host } = setup();
    const boom = new Error("listener boom");
    host.events.on("hookEnd", () => {
      throw boom;
    });
    let aborted: unknown;
    registry.registerContainerPlugin({ name: "sync", priority: 1, preCreate() {} });
    registry.registerContainerPlugin({
      name: "pending",
      preCreate: (ctx) =>
        new Promise<void>((_resolve, reject) => {
          ctx.signal.addEventListener("abort", () => reject((aborted = ctx.signal.reason)));
        }),
    });
    const unhandled = await unhandledDuring(async () => {
      expect(await rejectionOf(host.container.preCreate(config()))).toBe(boom);
    });
    expect(aborted).toBe(boom);
    expect(unhandled).toEqual([]);
  });
});
