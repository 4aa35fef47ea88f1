/**
 * What a plugin's time limit does not count: the host's own listeners and subscribers running before the plugin is
 * called, and what later calls do with a context a plugin kept.
 */
import type { HookContext } from "hookplugins";
import { describe, expect, it } from "vitest";
import { config, setup } from "./helpers.js";

/** Keeps the event loop busy for `ms` milliseconds. */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
}

const after = <T>(ms: number, value: T): Promise<T> => new Promise((resolve) => setTimeout(() => resolve(value), ms));

describe("a plugin's time limit starts when the plugin is called", () => {
  it("does not count a slow hookEnd listener of the plugin before it", async () => {
    const { registry, host } = setup();
    registry.registerContainerPlugin({ name: "first", priority: 1, preCreate: () => undefined });
    registry.registerContainerPlugin({ name: "second", timeoutMs: 60, preCreate: (_ctx, c) => after(25, c) });
    host.events.on("hookEnd", (e) => {
      if (e.plugin === "first") busy(50);
    });
    await expect(host.container.preCreate(config())).resolves.toEqual(config());
  });

  it("does not count a slow hookStart listener of the plugin itself", async () => {
    const { registry, host } = setup();
    registry.registerContainerPlugin({ name: "slowstart", timeoutMs: 60, preCreate: (_ctx, c) => after(25, c) });
    host.events.on("hookStart", () => busy(50));
    await expect(host.container.preCreate(config())).resolves.toEqual(config());
  });
});

describe("contexts of async calls", () => {
  it("a context a plugin kept after its async call settled is not aborted by a later call's timeout", async () => {
    const { registry, host } = setup();
    const kept: HookContext[] = [];
    let call = 0;
    registry.registerContainerPlugin({
      name: "keeper",
      timeoutMs: 30,
      preCreate: (ctx, c) => {
        kept.push(ctx);
        call += 1;
        return call === 1 ? after(1, c) : new Promise<never>(() => {});
      },
    });
    await host.container.preCreate(config());
    await expect(host.container.preCreate(config())).rejects.toThrow(/timed out|did not settle|within/);
    expect(kept[0]!.signal.aborted).toBe(false);
  });
});
