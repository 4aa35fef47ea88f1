import { createHost, createRegistry, PluginHookError, PluginTimeoutError, type HookErrorEvent } from "hookplugins";
import { describe, expect, it } from "vitest";
import { exitOf, forever, rejectionOf, setup, sleep } from "./helpers.js";

describe("observers (ContainerPlugin.postStart and onExit)", () => {
  it("runs every plugin even when an earlier one fails", async () => {
    const { registry, host } = setup();
    const ran: string[] = [];
    registry.registerContainerPlugin({ name: "broken", priority: 2, postStart: () => { ran.push("broken"); throw new Error("down"); } });
    registry.registerContainerPlugin({ name: "after", priority: 1, postStart: async () => void ran.push("after") });
    await host.container.postStart({ Id: "c1" });
    expect(ran).toEqual(["broken", "after"]);
  });

  it("runs plugins in priority order, registration order at equal priority", async () => {
    const { registry, host } = setup();
    const ran: string[] = [];
    registry.registerContainerPlugin({ name: "low", priority: -1, onExit: () => void ran.push("low") });
    registry.registerContainerPlugin({ name: "a", onExit: async () => void ran.push("a") });
    registry.registerContainerPlugin({ name: "high", priority: 5, onExit: () => void ran.push("high") });
    registry.registerContainerPlugin({ name: "b", onExit: () => void ran.push("b") });
    await host.container.onExit({ Id: "c1" }, exitOf());
    expect(ran).toEqual(["high", "a", "b", "low"]);
  });

  it("passes the container and the exit to onExit", async () => {
    const { registry, host } = setup();
    const seen: unknown[] = [];
    registry.registerContainerPlugin({ name: "watch", onExit: (_ctx, container, exit) => void seen.push(container, exit) });
    const exit = exitOf({ code: 137, signal: "SIGKILL", oomKilled: true });
    await host.container.onExit({ Id: "c1" }, exit);
    expect(seen).toEqual([{ Id: "c1" }, exit]);
  });

  it("resolves with every fail-closed failure in call order, each naming its plugin, by default", async () => {
    const { registry, host } = setup();
    registry.registerContainerPlugin({ name: "one", priority: 2, postStart: () => Promise.reject(new Error("first")) });
    registry.registerContainerPlugin({ name: "fine", priority: 1, postStart: () => undefined });
    registry.registerContainerPlugin({ name: "two", postStart: () => { throw new Error("second"); } });
    const outcome = await host.container.postStart({ Id: "c1" });
    expect(outcome.failures.map((f) => [f.plugin, f.hook, (f.cause as Error).message])).toEqual([
      ["one", "ContainerPlugin.postStart", "first"],
      ["two", "ContainerPlugin.postStart", "second"],
    ]);
  });

  it("resolves with no failures when nothing is registered", async () => {
    const { host } = setup();
    expect(await host.container.onExit({ Id: "c1" }, exitOf())).toEqual({ failures: [] });
  });

  it("reports each failure as a hookError event", async () => {
    const { registry, host } = setup();
    const events: HookErrorEvent[] = [];
    host.events.on("hookError", (event) => events.push(event));
    registry.registerContainerPlugin({ name: "closed", postStart: () => { throw new Error("x"); } });
    registry.registerContainerPlugin({ name: "open", failPolicy: "fail-open", postStart: () => Promise.reject(new Error("y")) });
    await host.container.postStart({ Id: "c1" });
    expect(events.map((e) => [e.plugin, e.hook, e.failPolicy])).toEqual([
      ["closed", "ContainerPlugin.postStart", "fail-closed"],
      ["open", "ContainerPlugin.postStart", "fail-open"],
    ]);
  });

  it("leaves a fail-open plugin's failure out of the outcome (it is only an event)", async () => {
    const { registry, host } = setup();
    registry.registerContainerPlugin({ name: "optional", failPolicy: "fail-open", postStart: () => { throw new Error("y"); } });
    expect((await host.container.postStart({ Id: "c1" })).failures).toEqual([]);
  });

  it("rejects with an AggregateError after every plugin ran when observerFailures is reject", async () => {
    const registry = createRegistry();
    const host = createHost({ registry, observerFailures: "reject" });
    const ran: string[] = [];
    registry.registerContainerPlugin({ name: "one", priority: 1, onExit: () => { ran.push("one"); throw new Error("first"); } });
    registry.registerContainerPlugin({ name: "two", onExit: async () => void ran.push("two") });
    const error = await rejectionOf(host.container.onExit({ Id: "c1" }, exitOf()));
    expect(ran).toEqual(["one", "two"]);
    expect(error).toBeInstanceOf(AggregateError);
    expect((error as AggregateError).errors[0]).toBeInstanceOf(PluginHookError);
    expect((error as AggregateError).message).toMatch(/plugin "one" failed in ContainerPlugin.onExit: first/);
  });

  it("refuses an observerFailures value that is neither report nor reject", () => {
    expect(() => createHost({ registry: createRegistry(), observerFailures: "ignore" as never })).toThrow(/observerFailures must be "report".*"reject"/);
  });

  it("times out a plugin that never settles and still runs the next one", async () => {
    const { registry, host } = setup();
    const ran: string[] = [];
    registry.registerContainerPlugin({ name: "stuck", priority: 1, timeoutMs: 30, postStart: () => forever() });
    registry.registerContainerPlugin({ name: "next", postStart: () => void ran.push("next") });
    const outcome = await host.container.postStart({ Id: "c1" });
    expect(outcome.failures[0]).toBeInstanceOf(PluginTimeoutError);
    expect(outcome.failures[0]?.plugin).toBe("stuck");
    expect(ran).toEqual(["next"]);
  });

  it("stops when its caller cancels, naming the plugin that was running", async () => {
    const { registry, host } = setup();
    const ran: string[] = [];
    registry.registerContainerPlugin({ name: "slow", priority: 1, postStart: (ctx) => new Promise((resolve) => ctx.signal.addEventListener("abort", () => resolve())) });
    registry.registerContainerPlugin({ name: "later", postStart: () => void ran.push("later") });
    const controller = new AbortController();
    const call = host.container.postStart({ Id: "c1" }, { signal: controller.signal });
    await sleep(5);
    controller.abort(new Error("shutting down"));
    const error = await rejectionOf(call);
    expect(error).toMatchObject({ name: "PluginAbortedError", plugin: "slow", hook: "ContainerPlugin.postStart" });
    expect(ran).toEqual([]);
  });
});
