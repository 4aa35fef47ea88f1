/**
 * The host's event types, as typed-emitter gives them in the source. The packed-tarball test checks the same shapes
 * against the shipped .d.ts, where typed-emitter is inlined (a dev dependency, so consumers never install rxjs).
 */
import { createHost, createRegistry, type HookEndEvent, type HookErrorEvent, type HookName, type HookStartEvent, type PluginHookError } from "hookplugins";
import { describe, expectTypeOf, it } from "vitest";

const host = createHost({ registry: createRegistry() });

describe("host.events", () => {
  it("hands hookStart, hookEnd and hookError listeners their payloads", () => {
    expectTypeOf(host.events.on<"hookStart">).parameter(1).parameter(0).toEqualTypeOf<HookStartEvent>();
    expectTypeOf(host.events.on<"hookEnd">).parameter(1).parameter(0).toEqualTypeOf<HookEndEvent>();
    expectTypeOf(host.events.on<"hookError">).parameter(1).parameter(0).toEqualTypeOf<HookErrorEvent>();
    expectTypeOf<HookEndEvent>().toEqualTypeOf<{ readonly plugin: string; readonly hook: HookName; readonly durationMs: number }>();
    expectTypeOf<HookErrorEvent["error"]>().toEqualTypeOf<PluginHookError>();
  });

  it("emits only known events with their payload, and says whether anyone listened", () => {
    expectTypeOf(host.events.emit<"hookEnd">).parameters.toEqualTypeOf<[event: "hookEnd", event: HookEndEvent]>();
    expectTypeOf(host.events.emit<"hookEnd">).returns.toEqualTypeOf<boolean>();
    // @ts-expect-error not an event of a host
    host.events.on("hookFinish", () => {});
    const typeOnly = (): void => {
      // @ts-expect-error a hookEnd payload needs durationMs
      host.events.emit("hookEnd", { plugin: "p", hook: "ContainerPlugin.preCreate" });
    };
    expectTypeOf(typeOnly).returns.toBeVoid();
  });

  it("returns the emitter from on, for chaining", () => {
    expectTypeOf(host.events.on("hookEnd", () => {})).toEqualTypeOf(host.events);
  });
});
