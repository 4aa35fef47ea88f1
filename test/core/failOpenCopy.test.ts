import { PluginHookError, type ContainerCreateConfig } from "hookplugins";
import { describe, expect, it } from "vitest";
import { copyData } from "../../src/dispatch/copyData.js";
import { config, setup } from "./helpers.js";

describe("the copy a fail-open plugin works on", () => {
  it("is a deep copy of plain data: nested objects and arrays are new, values equal", () => {
    const value = { a: 1, b: "x", c: [1, { d: true, e: null }], f: { g: { h: -0 } }, u: undefined };
    const copy = copyData(value) as typeof value;
    expect(copy).toStrictEqual(value);
    expect(copy).not.toBe(value);
    expect(copy.c).not.toBe(value.c);
    expect(copy.c[1]).not.toBe(value.c[1]);
    expect(Object.is(copy.f.g.h, -0)).toBe(true);
    expect("u" in copy).toBe(true);
  });

  it("copies Dates, Maps, Sets, typed arrays and class instances exactly as structuredClone does", () => {
    const value = { when: new Date(1_700_000_000_000), map: new Map([["k", { v: 1 }]]), set: new Set([1, 2]), bytes: new Uint8Array([1, 2, 3]) };
    const copy = copyData(value) as typeof value;
    expect(copy).toStrictEqual(structuredClone(value));
    expect(copy.when).toBeInstanceOf(Date);
    expect(copy.when.getTime()).toBe(1_700_000_000_000);
    expect(copy.map.get("k")).toEqual({ v: 1 });
    expect(copy.map.get("k")).not.toBe(value.map.get("k"));
    expect(copy.bytes).toBeInstanceOf(Uint8Array);
  });

  it("keeps a cycle and an own __proto__ key, as structuredClone does", () => {
    const cyclic: Record<string, unknown> = { name: "loop" };
    cyclic["self"] = cyclic;
    const copy = copyData(cyclic) as Record<string, unknown>;
    expect(copy["self"]).toBe(copy);
    const parsed = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}') as Record<string, unknown>;
    const parsedCopy = copyData(parsed) as Record<string, unknown>;
    expect(Object.getPrototypeOf(parsedCopy)).toBe(Object.prototype);
    expect(Object.keys(parsedCopy)).toEqual(["__proto__", "ok"]);
  });

  it("keeps a null-prototype object's prototype", () => {
    const value = Object.assign(Object.create(null) as Record<string, unknown>, { a: { b: 1 } });
    const copy = copyData(value) as Record<string, unknown>;
    expect(Object.getPrototypeOf(copy)).toBe(null);
    expect(copy).toEqual({ a: { b: 1 } });
  });

  it("leaves a config holding a Date and a Map untouched when the fail-open plugin that mutated it fails", async () => {
    const { registry, host } = setup();
    registry.registerContainerPlugin({
      name: "mutates-then-throws",
      failPolicy: "fail-open",
      preCreate(_ctx, c) {
        (c.Labels as Record<string, string>)["half"] = "done";
        (c as unknown as { extra: Map<string, number> }).extra.set("bad", 1);
        throw new Error("no");
      },
    });
    const input = { ...config({ Labels: { a: "1" } }), created: new Date(0), extra: new Map([["good", 1]]) } as unknown as ContainerCreateConfig;
    const result = (await host.container.preCreate(input)) as unknown as { Labels: Record<string, string>; created: Date; extra: Map<string, number> };
    expect(result.Labels).toEqual({ a: "1" });
    expect(result.created).toBeInstanceOf(Date);
    expect([...result.extra.keys()]).toEqual(["good"]);
  });

  it("fails a fail-open plugin whose input holds a function, saying how to fix it", async () => {
    const { registry, host } = setup();
    const seen: PluginHookError[] = [];
    host.events.on("hookError", (e) => seen.push(e.error));
    registry.registerContainerPlugin({ name: "open", failPolicy: "fail-open", preCreate() {} });
    const input = { ...config(), callback: () => {} } as unknown as ContainerCreateConfig;
    expect(await host.container.preCreate(input)).toBe(input);
    expect(seen[0]?.plugin).toBe("open");
    expect(seen[0]?.message).toMatch(/cannot copy the value for this fail-open plugin/);
  });
});
