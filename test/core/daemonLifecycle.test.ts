import { PluginHookError, PluginTimeoutError, type DaemonPlugin, type PluginRegistry } from "hookplugins";
import { describe, expect, it } from "vitest";
import { forever, rejectionOf, setup, sleep } from "./helpers.js";

/** Registers a daemon plugin that logs "start <name>" / "stop <name>"; `fail` makes that step throw. */
function daemonPlugin(
  registry: PluginRegistry,
  log: string[],
  name: string,
  priority: number,
  fail: { start?: unknown; stop?: unknown; stopHangs?: boolean } = {},
  extra: Partial<DaemonPlugin> = {},
): void {
  registry.registerDaemonPlugin({
    name,
    priority,
    ...extra,
    async preStartHook() {
      log.push(`start ${name}`);
      await sleep(1);
      if (fail.start !== undefined) throw fail.start;
    },
    preStopHook() {
      log.push(`stop ${name}`);
      if (fail.stopHangs) return forever();
      if (fail.stop !== undefined) throw fail.stop;
      return undefined;
    },
  });
}

describe("daemon preStart", () => {
  it("runs every preStartHook in priority order and resolves", async () => {
    const { registry, host } = setup();
    const log: string[] = [];
    daemonPlugin(registry, log, "db", 1);
    daemonPlugin(registry, log, "metrics", 5);
    daemonPlugin(registry, log, "cache", 1);
    await expect(host.daemon.preStart()).resolves.toBeUndefined();
    expect(log).toEqual(["start metrics", "start db", "start cache"]);
  });

  it("on a failure, stops the plugins already started in reverse order and then rejects with the failing plugin's error", async () => {
    const { registry, host } = setup();
    const log: string[] = [];
    const cause = new Error("port in use");
    daemonPlugin(registry, log, "first", 30);
    daemonPlugin(registry, log, "second", 20);
    daemonPlugin(registry, log, "broken", 10, { start: cause });
    daemonPlugin(registry, log, "never", 0);
    const error = await rejectionOf(host.daemon.preStart());
    expect(log).toEqual(["start first", "start second", "start broken", "stop second", "stop first"]);
    expect(error).toBeInstanceOf(PluginHookError);
    expect((error as PluginHookError).plugin).toBe("broken");
    expect((error as PluginHookError).hook).toBe("DaemonPlugin.preStartHook");
    expect((error as PluginHookError).cause).toBe(cause);
  });

  it("finishes the rollback before the call rejects", async () => {
    const { registry, host } = setup();
    const log: string[] = [];
    registry.registerDaemonPlugin({
      name: "slow-stop",
      priority: 1,
      preStartHook() {},
      async preStopHook() {
        await sleep(20);
        log.push("rolled back");
      },
    });
    registry.registerDaemonPlugin({
      name: "broken",
      preStartHook() {
        throw new Error("no");
      },
    });
    await host.daemon.preStart().catch(() => log.push("rejected"));
    expect(log).toEqual(["rolled back", "rejected"]);
  });

  it("still rejects with the start error, and runs every other rollback, when a rollback stop fails", async () => {
    const { registry, host } = setup();
    const log: string[] = [];
    daemonPlugin(registry, log, "a", 3);
    daemonPlugin(registry, log, "b", 2, { stop: new Error("stop failed") });
    daemonPlugin(registry, log, "c", 1, { start: new Error("start failed") });
    const error = await rejectionOf(host.daemon.preStart());
    expect((error as PluginHookError).plugin).toBe("c");
    expect((error as Error).message).toMatch(/start failed/);
    expect(log).toEqual(["start a", "start b", "start c", "stop b", "stop a"]);
  });
});

describe("daemon preStop", () => {
  it("runs every preStopHook in reverse priority order", async () => {
    const { registry, host } = setup();
    const log: string[] = [];
    daemonPlugin(registry, log, "low", -1);
    daemonPlugin(registry, log, "high", 9);
    daemonPlugin(registry, log, "mid", 4);
    await host.daemon.preStop();
    expect(log).toEqual(["stop low", "stop mid", "stop high"]);
  });

  it("runs every stop even when earlier ones fail or time out, then rejects with an AggregateError of PluginHookErrors", async () => {
    const { registry, host } = setup();
    const log: string[] = [];
    daemonPlugin(registry, log, "first-stopped", 0, { stop: "plain string" });
    daemonPlugin(registry, log, "hangs", 1, { stopHangs: true }, { timeoutMs: 30 });
    daemonPlugin(registry, log, "fine", 2);
    daemonPlugin(registry, log, "throws", 3, { stop: new Error("disk busy") });
    const error = await rejectionOf(host.daemon.preStop());
    expect(log).toEqual(["stop first-stopped", "stop hangs", "stop fine", "stop throws"]);
    expect(error).toBeInstanceOf(AggregateError);
    const errors = (error as AggregateError).errors as PluginHookError[];
    expect(errors.map((e) => e.plugin)).toEqual(["first-stopped", "hangs", "throws"]);
    expect(errors.every((e) => e instanceof PluginHookError && e.hook === "DaemonPlugin.preStopHook")).toBe(true);
    expect(errors[1]).toBeInstanceOf(PluginTimeoutError);
    expect((error as Error).message).toMatch(/3 plugins failed in DaemonPlugin\.preStopHook/);
  });

  it("runs nothing when called a second time", async () => {
    const { registry, host } = setup();
    const log: string[] = [];
    daemonPlugin(registry, log, "only", 0);
    await host.daemon.preStop();
    await host.daemon.preStop();
    expect(log).toEqual(["stop only"]);
  });

  it("runs each stop once when called twice concurrently", async () => {
    const { registry, host } = setup();
    let stops = 0;
    registry.registerDaemonPlugin({
      name: "slow",
      async preStopHook() {
        stops++;
        await sleep(10);
      },
    });
    await Promise.all([host.daemon.preStop(), host.daemon.preStop()]);
    expect(stops).toBe(1);
  });

  it("runs the stops again after the daemon was started again", async () => {
    const { registry, host } = setup();
    const log: string[] = [];
    daemonPlugin(registry, log, "svc", 0);
    await host.daemon.preStart();
    await host.daemon.preStop();
    await host.daemon.preStart();
    await host.daemon.preStop();
    expect(log).toEqual(["start svc", "stop svc", "start svc", "stop svc"]);
  });

  it("does not count a stop refused for an already-aborted signal: a later call runs every stop", async () => {
    const { registry, host } = setup();
    const log: string[] = [];
    daemonPlugin(registry, log, "svc", 0);
    const reason = new Error("caller gave up");
    await expect(host.daemon.preStop({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(log).toEqual([]);
    await host.daemon.preStop();
    expect(log).toEqual(["stop svc"]);
  });
});
