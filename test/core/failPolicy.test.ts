import { Readable } from "node:stream";
import { PluginHookError, PluginTimeoutError, type HookErrorEvent } from "hookplugins";
import { describe, expect, it } from "vitest";
import { config, forever, rejectionOf, routes, setup } from "./helpers.js";

describe("fail-closed (the default)", () => {
  it("fails the operation when a plugin without a failPolicy fails", async () => {
    const { registry, host } = setup();
    registry.registerContainerPlugin({
      name: "default-policy",
      preCreate() {
        throw new Error("denied");
      },
    });
    expect(registry.list()[0]?.failPolicy).toBe("fail-closed");
    await expect(host.container.preCreate(config())).rejects.toBeInstanceOf(PluginHookError);
  });

  it("reports the failure as a hookError event with failPolicy fail-closed", async () => {
    const { registry, host } = setup();
    const events: HookErrorEvent[] = [];
    host.events.on("hookError", (event) => events.push(event));
    registry.registerImagePlugin({ name: "closed", failPolicy: "fail-closed", postPull: () => Promise.reject(new Error("x")) });
    const error = await rejectionOf(host.image.postPull("overlayfs", {}));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ plugin: "closed", hook: "ImagePlugin.postPull", failPolicy: "fail-closed" });
    expect(events[0]?.error).toBe(error);
  });
});

describe("fail-open", () => {
  it("skips the failing plugin, reports it as a hookError event and goes on with the value from before it", async () => {
    const { registry, host } = setup();
    const events: HookErrorEvent[] = [];
    host.events.on("hookError", (event) => events.push(event));
    registry.registerContainerPlugin({
      name: "before",
      priority: 3,
      preCreate(_ctx, c) {
        c.Labels = { before: "1" };
      },
    });
    registry.registerContainerPlugin({
      name: "optional",
      priority: 2,
      failPolicy: "fail-open",
      preCreate() {
        throw new Error("optional service down");
      },
    });
    const seen: unknown[] = [];
    registry.registerContainerPlugin({ name: "after", priority: 1, preCreate: (_ctx, c) => void seen.push({ ...c.Labels }) });
    const result = await host.container.preCreate(config());
    expect(result.Labels).toEqual({ before: "1" });
    expect(seen).toEqual([{ before: "1" }]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ plugin: "optional", hook: "ContainerPlugin.preCreate", failPolicy: "fail-open" });
    expect(events[0]?.error).toBeInstanceOf(PluginHookError);
    expect(events[0]?.error.message).toMatch(/optional service down/);
  });

  it("does not leak a half-done in-place mutation of a plugin that then throws", async () => {
    const { registry, host } = setup();
    registry.registerContainerPlugin({
      name: "half-done",
      priority: 1,
      failPolicy: "fail-open",
      preCreate(_ctx, c) {
        c.Labels = { half: "done" };
        c.Env = ["LEAKED=1"];
        throw new Error("crashed midway");
      },
    });
    const seen: unknown[] = [];
    registry.registerContainerPlugin({ name: "after", preCreate: (_ctx, c) => void seen.push(c.Labels, c.Env) });
    const input = config({ Env: ["KEEP=1"] });
    const result = await host.container.preCreate(input);
    expect(seen).toEqual([undefined, ["KEEP=1"]]);
    expect(result.Labels).toBeUndefined();
    expect(result.Env).toEqual(["KEEP=1"]);
    expect(input.Env).toEqual(["KEEP=1"]);
  });

  it("does not leak a nested mutation of a plugin whose async method rejects", async () => {
    const { registry, host } = setup();
    registry.registerContainerPlugin({
      name: "nested",
      failPolicy: "fail-open",
      preCreate: async (_ctx, c) => {
        c.HostConfig!.Memory = 1;
        await Promise.resolve();
        throw new Error("later failure");
      },
    });
    const result = await host.container.preCreate(config({ HostConfig: { Memory: 512 } }));
    expect(result.HostConfig?.Memory).toBe(512);
  });

  it("keeps the work of a fail-open plugin that succeeds", async () => {
    const { registry, host } = setup();
    registry.registerContainerPlugin({
      name: "ok-open",
      failPolicy: "fail-open",
      preCreate(_ctx, c) {
        c.Hostname = "set-by-open";
      },
    });
    expect((await host.container.preCreate(config())).Hostname).toBe("set-by-open");
  });

  it("skips a fail-open plugin that times out, drops its half-done mutation and reports a PluginTimeoutError", async () => {
    const { registry, host } = setup();
    const events: HookErrorEvent[] = [];
    host.events.on("hookError", (event) => events.push(event));
    registry.registerContainerPlugin({
      name: "slow-open",
      timeoutMs: 30,
      failPolicy: "fail-open",
      preCreate(_ctx, c) {
        c.Hostname = "half";
        return forever();
      },
    });
    const result = await host.container.preCreate(config());
    expect(result.Hostname).toBeUndefined();
    expect(events[0]?.error).toBeInstanceOf(PluginTimeoutError);
    expect(events[0]?.failPolicy).toBe("fail-open");
  });

  it("skips a fail-open plugin that returns an invalid value", async () => {
    const { registry, host } = setup();
    registry.registerVolumePlugin({ name: "bad-open", failPolicy: "fail-open", preVolumeCreate: (() => 42) as never });
    expect(await host.volume.preVolumeCreate({ Name: "v" })).toEqual({ Name: "v" });
  });

  it("keeps the other plugins' prestart hooks when a fail-open plugin returns an invalid one", async () => {
    const { registry, host } = setup();
    registry.registerContainerPlugin({ name: "good", preStart: () => [{ priority: 1, path: "/bin/good" }] });
    registry.registerContainerPlugin({
      name: "bad-open",
      failPolicy: "fail-open",
      preStart: () => [{ priority: 2, path: "/bin/fine" }, { priority: 0, path: "relative" }],
    });
    expect((await host.container.preStart({})).map((h) => h.path)).toEqual(["/bin/good"]);
  });

  it("does not leak route changes of a fail-open API plugin that then throws", async () => {
    const { registry, host } = setup();
    registry.registerAPIPlugin({
      name: "bad-open",
      failPolicy: "fail-open",
      updateHandler(_ctx, handlers) {
        handlers.push({ method: "GET", path: "/leak", handler: () => {} });
        handlers[0]!.path = "/renamed";
        throw new Error("no");
      },
    });
    const result = await host.api.updateHandler(routes());
    expect(result.map((h) => h.path)).toEqual(["/_ping"]);
  });

  it("uses the stream from before a fail-open preUpdate plugin that throws", async () => {
    const { registry, host } = setup();
    registry.registerContainerPlugin({
      name: "bad-open",
      failPolicy: "fail-open",
      preUpdate() {
        throw new Error("no");
      },
    });
    const body = Readable.from(["{}"]);
    expect(await host.container.preUpdate(body)).toBe(body);
  });

  it("runs the remaining notification plugins after a fail-open one fails", async () => {
    const { registry, host } = setup();
    const calls: string[] = [];
    registry.registerImagePlugin({
      name: "bad-open",
      priority: 1,
      failPolicy: "fail-open",
      postPull() {
        throw new Error("no");
      },
    });
    registry.registerImagePlugin({ name: "after", postPull: () => void calls.push("after") });
    await expect(host.image.postPull("overlayfs", {})).resolves.toBeUndefined();
    expect(calls).toEqual(["after"]);
  });

  it("lets the daemon start without rollback when a fail-open plugin's start fails", async () => {
    const { registry, host } = setup();
    const log: string[] = [];
    registry.registerDaemonPlugin({ name: "core", priority: 1, preStartHook: () => void log.push("start core"), preStopHook: () => void log.push("stop core") });
    registry.registerDaemonPlugin({
      name: "optional",
      failPolicy: "fail-open",
      preStartHook() {
        throw new Error("no");
      },
    });
    await expect(host.daemon.preStart()).resolves.toBeUndefined();
    expect(log).toEqual(["start core"]);
  });

  it("leaves a fail-open stop failure out of preStop's AggregateError", async () => {
    const { registry, host } = setup();
    registry.registerDaemonPlugin({ name: "open", failPolicy: "fail-open", preStopHook: () => Promise.reject(new Error("a")) });
    registry.registerDaemonPlugin({ name: "closed", preStopHook: () => Promise.reject(new Error("b")) });
    const error = await rejectionOf(host.daemon.preStop());
    expect(((error as AggregateError).errors as PluginHookError[]).map((e) => e.plugin)).toEqual(["closed"]);
  });
});
