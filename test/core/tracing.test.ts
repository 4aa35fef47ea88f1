import { AsyncLocalStorage } from "node:async_hooks";
import { tracingChannel } from "node:diagnostics_channel";
import {
  hookTracingChannel,
  hookTracingChannelName,
  PluginAbortedError,
  PluginHookError,
  PluginTimeoutError,
  type DispatchKind,
  type FailPolicy,
  type HookEndEvent,
  type HookName,
  type HookTraceMessage,
  type PluginType,
} from "hookplugins";
import { afterEach, describe, expect, expectTypeOf, it } from "vitest";
import { config, forever, rejectionOf, setup, sleep } from "./helpers.js";

type Phase = "start" | "end" | "asyncStart" | "asyncEnd" | "error";

/** Subscribes to every channel of the hook TracingChannel; records "phase plugin" and the messages. */
function subscribe(): { log: string[]; messages: HookTraceMessage[]; stop: () => void } {
  const channel = tracingChannel<unknown, HookTraceMessage>(hookTracingChannelName);
  const log: string[] = [];
  const messages: HookTraceMessage[] = [];
  const on =
    (phase: Phase) =>
    (message: HookTraceMessage): void => {
      log.push(`${phase} ${message.plugin}`);
      if (!messages.includes(message)) messages.push(message);
    };
  const subscribers = { start: on("start"), end: on("end"), asyncStart: on("asyncStart"), asyncEnd: on("asyncEnd"), error: on("error") };
  channel.subscribe(subscribers);
  return { log, messages, stop: () => channel.unsubscribe(subscribers) };
}

describe("tracing on node:diagnostics_channel", () => {
  let stop: (() => void) | undefined;
  afterEach(() => {
    stop?.();
    stop = undefined;
  });

  it("types the message with the hook point's own names and the PluginHookError", () => {
    expectTypeOf<HookTraceMessage["hook"]>().toEqualTypeOf<HookName>();
    expectTypeOf<HookTraceMessage["pluginType"]>().toEqualTypeOf<PluginType>();
    expectTypeOf<HookTraceMessage["kind"]>().toEqualTypeOf<DispatchKind>();
    expectTypeOf<HookTraceMessage["failPolicy"]>().toEqualTypeOf<FailPolicy>();
    expectTypeOf<HookTraceMessage["error"]>().toEqualTypeOf<PluginHookError | undefined>();
  });

  it("publishes on the TracingChannel named hookplugins:hook", () => {
    expect(hookTracingChannelName).toBe("hookplugins:hook");
    expect(hookTracingChannel.start).toBe(tracingChannel("hookplugins:hook").start);
  });

  it("publishes start and end with plugin, hook, type and result for a sync plugin call", async () => {
    const { registry, host } = setup();
    const sub = subscribe();
    stop = sub.stop;
    const replacement = config({ Hostname: "replaced" });
    registry.registerContainerPlugin({ name: "sync", preCreate: () => replacement });
    await host.container.preCreate(config());
    expect(sub.log).toEqual(["start sync", "end sync"]);
    expect(sub.messages[0]).toMatchObject({
      plugin: "sync",
      hook: "ContainerPlugin.preCreate",
      pluginType: "ContainerPlugin",
      kind: "waterfall",
      failPolicy: "fail-closed",
      result: replacement,
      error: undefined,
    });
  });

  it("publishes start, end, asyncStart and asyncEnd on one message for an async plugin call", async () => {
    const { registry, host } = setup();
    const sub = subscribe();
    stop = sub.stop;
    registry.registerImagePlugin({ name: "async", postPull: () => sleep(5) });
    registry.registerImagePlugin({ name: "after", priority: -1, postPull() {} });
    await host.image.postPull("overlayfs", {});
    expect(sub.log).toEqual(["start async", "end async", "asyncStart async", "asyncEnd async", "start after", "end after"]);
    expect(sub.messages.map((m) => [m.plugin, m.hook, m.kind])).toEqual([
      ["async", "ImagePlugin.postPull", "series"],
      ["after", "ImagePlugin.postPull", "series"],
    ]);
  });

  it("publishes error with the PluginHookError naming plugin and hook, then end, for a plugin that throws", async () => {
    const { registry, host } = setup();
    const sub = subscribe();
    stop = sub.stop;
    registry.registerVolumePlugin({
      name: "thrower",
      preVolumeCreate() {
        throw new Error("no");
      },
    });
    const error = await rejectionOf(host.volume.preVolumeCreate({}));
    expect(sub.log).toEqual(["start thrower", "error thrower", "end thrower"]);
    expect(sub.messages[0]?.error).toBe(error);
    expect(sub.messages[0]?.error).toMatchObject({ plugin: "thrower", hook: "VolumePlugin.preVolumeCreate" });
  });

  it("publishes error before asyncStart and asyncEnd for a rejected or timed-out async call", async () => {
    const { registry, host } = setup();
    const sub = subscribe();
    stop = sub.stop;
    registry.registerContainerPlugin({ name: "rejects", priority: 1, failPolicy: "fail-open", preCreate: () => Promise.reject(new Error("no")) });
    registry.registerContainerPlugin({ name: "hangs", timeoutMs: 20, preCreate: forever });
    const error = await rejectionOf(host.container.preCreate(config()));
    expect(sub.log).toEqual([
      "start rejects",
      "end rejects",
      "error rejects",
      "asyncStart rejects",
      "asyncEnd rejects",
      "start hangs",
      "end hangs",
      "error hangs",
      "asyncStart hangs",
      "asyncEnd hangs",
    ]);
    expect(sub.messages[0]?.error).toBeInstanceOf(PluginHookError);
    expect(sub.messages[1]?.error).toBeInstanceOf(PluginTimeoutError);
    expect(sub.messages[1]?.error).toBe(error);
  });

  it("closes the call of a plugin the caller cancelled with a PluginAbortedError", async () => {
    const { registry, host } = setup();
    const sub = subscribe();
    stop = sub.stop;
    registry.registerContainerPlugin({ name: "running", preCreate: forever });
    const controller = new AbortController();
    const call = host.container.preCreate(config(), { signal: controller.signal });
    controller.abort(new Error("client left"));
    await rejectionOf(call);
    expect(sub.log).toEqual(["start running", "end running", "error running", "asyncStart running", "asyncEnd running"]);
    expect(sub.messages[0]?.error).toBeInstanceOf(PluginAbortedError);
  });

  it("runs the plugin inside the stores bound to the start channel, as APM context propagation needs", async () => {
    const { registry, host } = setup();
    const store = new AsyncLocalStorage<string>();
    hookTracingChannel.start.bindStore(store, (message) => `span of ${message.plugin}`);
    stop = () => hookTracingChannel.start.unbindStore(store);
    const seen: (string | undefined)[] = [];
    registry.registerContainerPlugin({
      name: "traced",
      async preCreate() {
        seen.push(store.getStore());
        await sleep(1);
        seen.push(store.getStore());
      },
    });
    await host.container.preCreate(config());
    expect(seen).toEqual(["span of traced", "span of traced"]);
  });

  it("feeds host.events from the same measurement: hookEnd's durationMs spans the traced call", async () => {
    const { registry, host } = setup();
    const sub = subscribe();
    stop = sub.stop;
    const ends: HookEndEvent[] = [];
    host.events.on("hookEnd", (e) => ends.push(e));
    registry.registerContainerPlugin({ name: "slow", preCreate: () => sleep(20) });
    await host.container.preCreate(config());
    expect(sub.log).toEqual(["start slow", "end slow", "asyncStart slow", "asyncEnd slow"]);
    expect(ends).toEqual([{ plugin: "slow", hook: "ContainerPlugin.preCreate", durationMs: expect.any(Number) }]);
    expect(ends[0]!.durationMs).toBeGreaterThanOrEqual(15);
  });

  it("publishes nothing once the subscriber is gone", async () => {
    const { registry, host } = setup();
    const sub = subscribe();
    registry.registerContainerPlugin({ name: "p", preCreate() {} });
    await host.container.preCreate(config());
    sub.stop();
    await host.container.preCreate(config());
    expect(sub.log).toEqual(["start p", "end p"]);
  });
});

describe("tracing at the observe and bail hook points", () => {
  it("publishes every observer's call with kind observe, the failing one on the error channel", async () => {
    const { registry, host } = setup();
    registry.registerContainerPlugin({ name: "broken", priority: 1, postStart: () => Promise.reject(new Error("x")) });
    registry.registerContainerPlugin({ name: "fine", postStart: () => undefined });
    const traced = subscribe();
    try {
      await host.container.postStart({ Id: "c1" });
    } finally {
      traced.stop();
    }
    expect(traced.log).toEqual(["start broken", "end broken", "error broken", "asyncStart broken", "asyncEnd broken", "start fine", "end fine"]);
    expect(traced.messages.map((m) => [m.hook, m.kind])).toEqual([
      ["ContainerPlugin.postStart", "observe"],
      ["ContainerPlugin.postStart", "observe"],
    ]);
  });

  it("publishes the providers asked, with kind bail, and none after the one that answered", async () => {
    const { registry, host } = setup();
    registry.registerImagePlugin({ name: "no", priority: 2, resolveImage: () => undefined });
    registry.registerImagePlugin({ name: "yes", priority: 1, resolveImage: (_ctx, ref) => ({ ref, rootfs: "/r", config: {} }) });
    registry.registerImagePlugin({ name: "never", resolveImage: () => undefined });
    const traced = subscribe();
    try {
      await host.image.resolveImage("dir:/x");
    } finally {
      traced.stop();
    }
    expect(traced.log).toEqual(["start no", "end no", "start yes", "end yes"]);
    expect(traced.messages.every((m) => m.kind === "bail")).toBe(true);
  });
});
