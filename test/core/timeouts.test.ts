import { PluginAbortedError, PluginHookError, PluginTimeoutError, type HookContext } from "hookplugins";
import { afterEach, describe, expect, it, vi } from "vitest";
import { config, drivers, forever, rejectionOf, setup, sleep, stoppingDrivers } from "./helpers.js";

/** Whether `promise` has settled, without waiting for it. */
function tracked<T>(promise: Promise<T>): { settled: () => boolean; promise: Promise<T> } {
  let settled = false;
  const settle = (): void => {
    settled = true;
  };
  promise.then(settle, settle);
  return { settled: () => settled, promise };
}

describe("plugin timeouts", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("times out a hanging plugin after the host default of 10 s, not before", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const { registry, host } = setup();
    registry.registerContainerPlugin({ name: "hangs", preCreate: forever });
    const call = tracked(host.container.preCreate(config()));
    await vi.advanceTimersByTimeAsync(9_999);
    expect(call.settled()).toBe(false);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(call.settled()).toBe(true);
    const error = await rejectionOf(call.promise);
    expect(error).toBeInstanceOf(PluginTimeoutError);
    expect((error as PluginTimeoutError).timeoutMs).toBe(10_000);
  });

  it("turns timeouts off with a host timeoutMs of 0", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const { registry, host } = setup({ timeoutMs: 0 });
    registry.registerContainerPlugin({
      name: "slow",
      preCreate: async (_ctx, c) => {
        await new Promise((resolve) => setTimeout(resolve, 60_000));
        c.Hostname = "finished";
      },
    });
    const call = host.container.preCreate(config());
    await vi.advanceTimersByTimeAsync(60_000);
    expect((await call).Hostname).toBe("finished");
  });

  it("rejects a non-finite or negative host timeoutMs", () => {
    expect(() => setup({ timeoutMs: -1 })).toThrow(/timeoutMs must be a finite number/);
    expect(() => setup({ timeoutMs: Number.NaN })).toThrow(/timeoutMs must be a finite number/);
  });

  it("lets a plugin's own timeoutMs win over the host default, in both directions", async () => {
    const { registry, host } = setup({ timeoutMs: 30 });
    registry.registerContainerPlugin({
      name: "patient",
      timeoutMs: 500,
      preCreate: async (_ctx, c) => {
        await sleep(80);
        c.Hostname = "patient";
      },
    });
    expect((await host.container.preCreate(config())).Hostname).toBe("patient");

    const strict = setup({ timeoutMs: 10_000 });
    strict.registry.registerContainerPlugin({ name: "strict", timeoutMs: 30, preCreate: forever });
    const started = performance.now();
    const error = await rejectionOf(strict.host.container.preCreate(config()));
    expect(error).toBeInstanceOf(PluginTimeoutError);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it("turns the limit off for a plugin whose timeoutMs is 0 even when the host has one", async () => {
    const { registry, host } = setup({ timeoutMs: 20 });
    registry.registerImagePlugin({ name: "no-limit", timeoutMs: 0, postPull: () => sleep(80) });
    await expect(host.image.postPull("overlayfs", {})).resolves.toBeUndefined();
  });

  it("rejects with a PluginTimeoutError that names plugin, hook and limit and is a PluginHookError", async () => {
    const { registry, host } = setup();
    registry.registerCriPlugin({ name: "stuck", timeoutMs: 40, preCreateContainer: forever });
    const error = await rejectionOf(host.cri.preCreateContainer(config(), {}));
    expect(error).toBeInstanceOf(PluginTimeoutError);
    expect(error).toBeInstanceOf(PluginHookError);
    expect(error).toMatchObject({ plugin: "stuck", hook: "CriPlugin.preCreateContainer", timeoutMs: 40 });
    expect((error as Error).message).toMatch(/plugin "stuck" timed out in CriPlugin\.preCreateContainer after 40 ms/);
  });

  it.each(stoppingDrivers.map((d) => [d.hook, d] as const))("%s times out a hanging plugin", async (hook, driver) => {
    const { registry, host } = setup({ timeoutMs: 30 });
    driver.register(registry, { name: "hangs" }, forever);
    const error = await rejectionOf(driver.call(host));
    expect(error).toBeInstanceOf(PluginTimeoutError);
    expect(error).toMatchObject({ plugin: "hangs", hook });
  });

  it("aborts the timed-out plugin's ctx.signal with the timeout error", async () => {
    const { registry, host } = setup();
    let signal: AbortSignal | undefined;
    registry.registerContainerPlugin({
      name: "hangs",
      timeoutMs: 30,
      preCreate(ctx) {
        signal = ctx.signal;
        return forever();
      },
    });
    const error = await rejectionOf(host.container.preCreate(config()));
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBe(error);
  });

  it("gives concurrent pending calls of one plugin their own contexts: one call's timeout leaves the other's signal alone", async () => {
    const { registry, host } = setup();
    const contexts: HookContext[] = [];
    registry.registerContainerPlugin({
      name: "pending",
      timeoutMs: 30,
      // the first call never settles, the second settles in time; neither reads its signal before returning
      preCreate(ctx) {
        contexts.push(ctx);
        return contexts.length === 1 ? forever() : sleep(5);
      },
    });
    const first = host.container.preCreate(config());
    await host.container.preCreate(config());
    await rejectionOf(first);
    expect(contexts[0]).not.toBe(contexts[1]);
    expect(contexts[0]!.signal.aborted).toBe(true);
    expect(contexts[1]!.signal.aborted).toBe(false);
  });

  it("never fires early: the call rejects no sooner than the limit after the plugin started", async () => {
    const { registry, host } = setup();
    const limit = 50;
    let startedAt = 0;
    registry.registerImagePlugin({
      name: "hangs",
      timeoutMs: limit,
      postPull() {
        startedAt = performance.now();
        return forever();
      },
    });
    await rejectionOf(host.image.postPull("overlayfs", {}));
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(limit);
  });

  it("does not time out a plugin that finishes well inside its limit", async () => {
    const { registry, host } = setup();
    registry.registerImagePlugin({ name: "quick-enough", timeoutMs: 100, postPull: () => sleep(40) });
    await expect(host.image.postPull("overlayfs", {})).resolves.toBeUndefined();
  });

  it("gives each plugin its own full limit, even right after an earlier plugin timed out", async () => {
    const { registry, host } = setup();
    registry.registerContainerPlugin({ name: "hangs", priority: 1, timeoutMs: 30, failPolicy: "fail-open", preCreate: forever });
    registry.registerContainerPlugin({
      name: "next",
      timeoutMs: 60,
      preCreate: async (_ctx, c) => {
        await sleep(35);
        c.Hostname = "next finished";
      },
    });
    expect((await host.container.preCreate(config())).Hostname).toBe("next finished");
  });

  it("times out a short-limit call while a long-limit call of the same host keeps running", async () => {
    const { registry, host } = setup();
    registry.registerImagePlugin({ name: "short", timeoutMs: 30, postPull: (_ctx, snapshotter) => (snapshotter === "hang" ? forever() : undefined) });
    registry.registerVolumePlugin({ name: "long", timeoutMs: 2_000, preVolumeCreate: () => sleep(80) });
    const [pull, volume] = await Promise.allSettled([host.image.postPull("hang", {}), host.volume.preVolumeCreate({})]);
    expect(pull.status === "rejected" && pull.reason).toBeInstanceOf(PluginTimeoutError);
    expect(volume.status).toBe("fulfilled");
  });

  it("ignores a timed-out plugin's late return value, even when it arrives while a later plugin is running", async () => {
    const { registry, host } = setup();
    registry.registerContainerPlugin({
      name: "late",
      priority: 2,
      timeoutMs: 30,
      failPolicy: "fail-open",
      preCreate: async () => {
        await sleep(50);
        return { Image: "from-late-plugin" };
      },
    });
    const seen: string[] = [];
    registry.registerContainerPlugin({
      name: "slow-next",
      priority: 1,
      preCreate: async (_ctx, c) => {
        seen.push(`slow-next saw ${c.Image}`);
        await sleep(60);
      },
    });
    registry.registerContainerPlugin({ name: "last", preCreate: (_ctx, c) => void seen.push(`last saw ${c.Image}`) });
    const result = await host.container.preCreate(config());
    expect(result.Image).toBe("busybox");
    expect(seen).toEqual(["slow-next saw busybox", "last saw busybox"]);
  });

  it("ignores a timed-out plugin's late in-place mutation", async () => {
    const { registry, host } = setup();
    registry.registerContainerPlugin({
      name: "late",
      timeoutMs: 30,
      failPolicy: "fail-open",
      preCreate: async (_ctx, c) => {
        await sleep(60);
        c.Labels = { late: "yes" };
      },
    });
    const input = config();
    const result = await host.container.preCreate(input);
    await sleep(60);
    expect(result.Labels).toBeUndefined();
    expect(input.Labels).toBeUndefined();
  });
});

describe("caller cancellation", () => {
  it.each(drivers.map((d) => [d.hook, d] as const))(
    "%s rejects with a PluginAbortedError naming the running plugin and aborts its ctx.signal",
    async (hook, driver) => {
      const { registry, host } = setup();
      const controller = new AbortController();
      let ctxSignal: AbortSignal | undefined;
      const reason = new Error("client went away");
      driver.register(registry, { name: "running" }, (ctx: HookContext) => {
        ctxSignal = ctx.signal;
        setTimeout(() => controller.abort(reason), 5);
        return forever();
      });
      const error = await rejectionOf(driver.call(host, { signal: controller.signal }));
      expect(error).toBeInstanceOf(PluginAbortedError);
      expect(error).toMatchObject({ plugin: "running", hook, cause: reason });
      expect(ctxSignal?.aborted).toBe(true);
      expect(ctxSignal?.reason).toBe(reason);
    },
  );

  it("runs no further plugin after the caller cancelled", async () => {
    const { registry, host } = setup();
    const controller = new AbortController();
    let laterRan = false;
    registry.registerContainerPlugin({
      name: "first",
      priority: 1,
      preCreate: async () => {
        controller.abort(new Error("stop"));
        await sleep(10);
      },
    });
    registry.registerContainerPlugin({ name: "later", preCreate: () => void (laterRan = true) });
    const error = await rejectionOf(host.container.preCreate(config(), { signal: controller.signal }));
    await sleep(20);
    expect((error as PluginAbortedError).plugin).toBe("first");
    expect(laterRan).toBe(false);
  });

  it("leaves no unhandled rejection when the caller cancels while a plugin makes the promise that rejects on the abort", async () => {
    const { registry, host } = setup();
    const controller = new AbortController();
    const reason = new Error("stop");
    registry.registerContainerPlugin({
      name: "first",
      preCreate: (ctx) => {
        const settled = new Promise<void>((_resolve, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)));
        controller.abort(reason);
        return settled;
      },
    });
    const unhandled: unknown[] = [];
    const record = (error: unknown): void => void unhandled.push(error);
    process.on("unhandledRejection", record);
    try {
      const error = await rejectionOf(host.container.preCreate(config(), { signal: controller.signal }));
      await sleep(20);
      expect(error).toMatchObject({ plugin: "first", cause: reason });
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", record);
    }
  });

  it("runs no further plugin when the caller's signal aborts while a sync plugin after an async one runs", async () => {
    const { registry, host } = setup();
    const controller = new AbortController();
    const calls: string[] = [];
    registry.registerContainerPlugin({ name: "async-first", priority: 3, preCreate: () => sleep(1) });
    registry.registerContainerPlugin({
      name: "aborting",
      priority: 2,
      preCreate() {
        calls.push("aborting");
        controller.abort(new Error("stop"));
      },
    });
    registry.registerContainerPlugin({ name: "later", priority: 1, preCreate: () => void calls.push("later") });
    await rejectionOf(host.container.preCreate(config(), { signal: controller.signal }));
    await sleep(10);
    expect(calls).toEqual(["aborting"]);
  });

  it.each(drivers.map((d) => [d.hook, d] as const))(
    "%s rejects with the reason of an already-aborted signal without running a plugin",
    async (_hook, driver) => {
      const { registry, host } = setup();
      let ran = false;
      driver.register(registry, { name: "p" }, () => void (ran = true));
      const reason = new Error("already cancelled");
      await expect(driver.call(host, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
      expect(ran).toBe(false);
    },
  );

  it("rolls back started daemon plugins when the caller cancels daemon preStart", async () => {
    const { registry, host } = setup();
    const controller = new AbortController();
    const log: string[] = [];
    registry.registerDaemonPlugin({ name: "first", priority: 1, preStartHook: () => void log.push("start first"), preStopHook: () => void log.push("stop first") });
    registry.registerDaemonPlugin({
      name: "second",
      preStartHook() {
        log.push("start second");
        setTimeout(() => controller.abort(new Error("shutdown requested")), 5);
        return forever();
      },
      preStopHook: () => void log.push("stop second"),
    });
    const error = await rejectionOf(host.daemon.preStart({ signal: controller.signal }));
    expect(error).toBeInstanceOf(PluginAbortedError);
    expect(log).toEqual(["start first", "start second", "stop first"]);
  });
});
