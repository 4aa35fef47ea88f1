import { describe, expect, it } from "vitest";
import { config, drivers, setup, sleep } from "./helpers.js";

/** Registered in this order; priority descending with registration order at ties gives b, d, f, a, c, e. */
const plugins = [
  { name: "a", priority: 0 },
  { name: "b", priority: 5 },
  { name: "c", priority: 0 },
  { name: "d", priority: 5 },
  { name: "e", priority: -1 },
  { name: "f", priority: 0.5 },
];
const byPriority = ["b", "d", "f", "a", "c", "e"];

describe("plugin order", () => {
  const forward = drivers.filter((d) => d.hook !== "DaemonPlugin.preStopHook");

  it.each(forward.map((d) => [d.hook, d] as const))(
    "runs %s plugins by priority descending and keeps registration order at equal priority",
    async (_hook, driver) => {
      const { registry, host } = setup();
      const calls: string[] = [];
      for (const meta of plugins) driver.register(registry, meta, (ctx) => calls.push(ctx.plugin));
      await driver.call(host);
      expect(calls).toEqual(byPriority);
    },
  );

  it("runs DaemonPlugin.preStopHook plugins in exactly the reverse of that order", async () => {
    const driver = drivers.find((d) => d.hook === "DaemonPlugin.preStopHook")!;
    const { registry, host } = setup();
    const calls: string[] = [];
    for (const meta of plugins) driver.register(registry, meta, (ctx) => calls.push(ctx.plugin));
    await driver.call(host);
    expect(calls).toEqual([...byPriority].reverse());
  });

  it("keeps the order when sync and async plugins are mixed", async () => {
    const { registry, host } = setup();
    const calls: string[] = [];
    registry.registerContainerPlugin({ name: "sync-low", priority: 1, preCreate: () => void calls.push("sync-low") });
    registry.registerContainerPlugin({
      name: "async-high",
      priority: 3,
      preCreate: async () => {
        await sleep(5);
        calls.push("async-high");
      },
    });
    registry.registerContainerPlugin({ name: "sync-mid", priority: 2, preCreate: () => void calls.push("sync-mid") });
    registry.registerContainerPlugin({
      name: "async-lowest",
      priority: 0,
      preCreate: async () => {
        await Promise.resolve();
        calls.push("async-lowest");
      },
    });
    await host.container.preCreate(config());
    expect(calls).toEqual(["async-high", "sync-mid", "sync-low", "async-lowest"]);
  });

  it("waits for an async plugin to finish before the next one starts", async () => {
    const { registry, host } = setup();
    const events: string[] = [];
    for (const name of ["first", "second"]) {
      registry.registerImagePlugin({
        name,
        async postPull() {
          events.push(`${name} start`);
          await sleep(10);
          events.push(`${name} end`);
        },
      });
    }
    await host.image.postPull("overlayfs", {});
    expect(events).toEqual(["first start", "first end", "second start", "second end"]);
  });

  it("places a plugin registered later by its priority, not at the end", async () => {
    const { registry, host } = setup();
    const calls: string[] = [];
    registry.registerContainerPlugin({ name: "low", priority: 1, postUpdate: () => void calls.push("low") });
    await host.container.postUpdate("/rootfs", []);
    registry.registerContainerPlugin({ name: "high", priority: 9, postUpdate: () => void calls.push("high") });
    calls.length = 0;
    await host.container.postUpdate("/rootfs", []);
    expect(calls).toEqual(["high", "low"]);
  });
});
