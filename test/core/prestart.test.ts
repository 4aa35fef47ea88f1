import { mergePrestartHooks, PluginHookError, type PrestartHook } from "hookplugins";
import { describe, expect, it } from "vitest";
import { rejectionOf, setup } from "./helpers.js";

const hook = (path: string, priority: number, extra: Partial<PrestartHook> = {}): PrestartHook => ({ priority, path, ...extra });

describe("container preStart", () => {
  it("passes the container to every plugin", async () => {
    const { registry, host } = setup();
    const seen: unknown[] = [];
    registry.registerContainerPlugin({ name: "p", preStart: (_ctx, container) => void seen.push(container) });
    const container = { Id: "c1", Name: "web" };
    await host.container.preStart(container);
    expect(seen[0]).toBe(container);
  });

  it("merges the builtin hooks and every plugin's hooks into one list ordered by priority descending", async () => {
    const { registry, host } = setup();
    registry.registerContainerPlugin({ name: "low", preStart: () => [hook("/bin/low", -5), hook("/bin/high", 10)] });
    registry.registerContainerPlugin({ name: "mid", preStart: async () => [hook("/bin/mid", 3)] });
    const result = await host.container.preStart({}, { builtin: [hook("/usr/libexec/network", 0)] });
    expect(result.map((h) => h.path)).toEqual(["/bin/high", "/bin/mid", "/usr/libexec/network", "/bin/low"]);
  });

  it("puts, at equal priority, the builtin hooks first, then plugins in plugin order, then each plugin's hooks in returned order", async () => {
    const { registry, host } = setup();
    // "late" has the higher plugin priority, so it runs (and its hooks come) before "early" despite registering second.
    registry.registerContainerPlugin({ name: "early", priority: 0, preStart: () => [hook("/bin/early-1", 0), hook("/bin/early-2", 0)] });
    registry.registerContainerPlugin({ name: "late", priority: 10, preStart: () => [hook("/bin/late-2", 0), hook("/bin/late-1", 0)] });
    const result = await host.container.preStart({}, { builtin: [hook("/usr/libexec/network", 0), hook("/usr/libexec/dns", 0)] });
    expect(result.map((h) => h.path)).toEqual([
      "/usr/libexec/network",
      "/usr/libexec/dns",
      "/bin/late-2",
      "/bin/late-1",
      "/bin/early-1",
      "/bin/early-2",
    ]);
  });

  it("lists a hook that several plugins (or the host) return only once", async () => {
    const { registry, host } = setup();
    const shared = hook("/bin/shared", 1, { args: ["x"], env: ["A=1"], timeout: 3 });
    registry.registerContainerPlugin({ name: "a", preStart: () => [{ ...shared }] });
    registry.registerContainerPlugin({ name: "b", preStart: () => [{ ...shared }, hook("/usr/libexec/network", 0)] });
    const result = await host.container.preStart({}, { builtin: [hook("/usr/libexec/network", 0)] });
    expect(result).toEqual([shared, hook("/usr/libexec/network", 0)]);
  });

  it("keeps hooks with the same path that differ in args as separate hooks", async () => {
    const { registry, host } = setup();
    registry.registerContainerPlugin({ name: "a", preStart: () => [hook("/bin/tool", 1, { args: ["one"] }), hook("/bin/tool", 1, { args: ["two"] })] });
    const result = await host.container.preStart({});
    expect(result.map((h) => h.args)).toEqual([["one"], ["two"]]);
  });

  it("treats a plugin that returns nothing as contributing no hooks", async () => {
    const { registry, host } = setup();
    registry.registerContainerPlugin({ name: "silent", preStart: () => undefined });
    expect(await host.container.preStart({}, { builtin: [hook("/bin/net", 0)] })).toEqual([hook("/bin/net", 0)]);
  });

  it.each([
    ["a NaN priority", { priority: Number.NaN, path: "/bin/x" }, /priority must be a finite number/],
    ["an infinite priority", { priority: Number.POSITIVE_INFINITY, path: "/bin/x" }, /priority must be a finite number/],
    ["a string priority", { priority: "1", path: "/bin/x" }, /priority must be a finite number/],
    ["an empty path", { priority: 0, path: "" }, /path must be a non-empty absolute path/],
    ["a relative path", { priority: 0, path: "bin/x" }, /path must be a non-empty absolute path/],
    ["non-string args", { priority: 0, path: "/bin/x", args: ["-v", 3] }, /args must be an array of strings/],
    ["a timeout of 0", { priority: 0, path: "/bin/x", timeout: 0 }, /timeout must be a whole number of seconds >= 1/],
    ["a fractional timeout", { priority: 0, path: "/bin/x", timeout: 1.5 }, /timeout must be a whole number of seconds >= 1/],
    ["env entries without =", { priority: 0, path: "/bin/x", env: ["JUSTKEY"] }, /env entries must look like KEY=value/],
  ])("rejects a returned hook with %s with a PluginHookError naming the plugin", async (_label, bad, message) => {
    const { registry, host } = setup();
    registry.registerContainerPlugin({ name: "good", priority: 1, preStart: () => [hook("/bin/ok", 0)] });
    registry.registerContainerPlugin({ name: "bad-hook", preStart: () => [hook("/bin/ok2", 0), bad as unknown as PrestartHook] });
    const error = await rejectionOf(host.container.preStart({}));
    expect(error).toBeInstanceOf(PluginHookError);
    expect((error as PluginHookError).plugin).toBe("bad-hook");
    expect((error as PluginHookError).hook).toBe("ContainerPlugin.preStart");
    expect((error as Error).message).toMatch(/prestart hook #1/);
    expect((error as Error).message).toMatch(message);
  });

  it("rejects a result that is not an array with a PluginHookError naming the plugin", async () => {
    const { registry, host } = setup();
    registry.registerContainerPlugin({ name: "single", preStart: (() => hook("/bin/x", 0)) as never });
    const error = await rejectionOf(host.container.preStart({}));
    expect((error as PluginHookError).plugin).toBe("single");
    expect((error as Error).message).toMatch(/must return an array of prestart hooks/);
  });

  it("rejects an invalid builtin hook through the returned promise rather than throwing", async () => {
    const { registry, host } = setup();
    registry.registerContainerPlugin({ name: "p", preStart: () => undefined });
    let result: Promise<unknown> | undefined;
    expect(() => {
      result = host.container.preStart({}, { builtin: [hook("relative/net", 0)] });
    }).not.toThrow();
    await expect(result).rejects.toThrow(/builtin prestart hook #0: path must be a non-empty absolute path/);
  });

  it("does not let a plugin change its hooks after returning them", async () => {
    const { registry, host } = setup();
    const mine = [hook("/bin/mine", 1, { args: ["a"] })];
    registry.registerContainerPlugin({ name: "keeper", preStart: () => mine });
    const result = await host.container.preStart({});
    mine[0]!.args!.push("injected");
    mine[0]!.path = "/tmp/evil";
    expect(result).toEqual([hook("/bin/mine", 1, { args: ["a"] })]);
  });
});

describe("mergePrestartHooks", () => {
  it("orders by priority descending, builtin first at ties, and drops exact duplicates", () => {
    const merged = mergePrestartHooks([hook("/b", 0), hook("/dup", 2)], [hook("/p", 0), hook("/dup", 2), hook("/top", 9)]);
    expect(merged.map((h) => h.path)).toEqual(["/top", "/dup", "/b", "/p"]);
  });
});
