import { PluginHookError, PluginTimeoutError, type HookErrorEvent, type ResolvedImage } from "hookplugins";
import { describe, expect, it } from "vitest";
import { forever, rejectionOf, setup } from "./helpers.js";

const image = (rootfs: string): ResolvedImage => ({ ref: "dir:/images/app", rootfs, config: { Cmd: ["/bin/app"] } });

describe("image drivers (ImagePlugin.resolveImage)", () => {
  it("resolves with the first provider's answer and names that provider", async () => {
    const { registry, host } = setup();
    registry.registerImagePlugin({ name: "first", priority: 2, resolveImage: () => image("/first") });
    registry.registerImagePlugin({ name: "second", priority: 1, resolveImage: async () => image("/second") });
    expect(await host.image.resolveImage("dir:/images/app")).toEqual({ plugin: "first", image: image("/first") });
  });

  it("calls no provider after the one that answered", async () => {
    const { registry, host } = setup();
    const asked: string[] = [];
    registry.registerImagePlugin({ name: "answers", priority: 2, resolveImage: async () => (asked.push("answers"), image("/a")) });
    registry.registerImagePlugin({ name: "sync-later", priority: 1, resolveImage: () => void asked.push("sync-later") });
    registry.registerImagePlugin({ name: "async-later", resolveImage: async () => void asked.push("async-later") });
    await host.image.resolveImage("dir:/images/app");
    expect(asked).toEqual(["answers"]);
  });

  it("calls no provider after one that answered synchronously", async () => {
    const { registry, host } = setup();
    const asked: string[] = [];
    registry.registerImagePlugin({ name: "answers", priority: 2, resolveImage: () => (asked.push("answers"), image("/a")) });
    registry.registerImagePlugin({ name: "later", priority: 1, resolveImage: () => void asked.push("later") });
    await host.image.resolveImage("dir:/images/app");
    expect(asked).toEqual(["answers"]);
  });

  it("asks the next provider when one answers undefined (not mine)", async () => {
    const { registry, host } = setup();
    const asked: string[] = [];
    registry.registerImagePlugin({ name: "oci", priority: 2, resolveImage: (_ctx, ref) => (asked.push(ref), undefined) });
    registry.registerImagePlugin({ name: "dir", priority: 1, resolveImage: async (_ctx, ref) => (ref.startsWith("dir:") ? image("/d") : undefined) });
    expect((await host.image.resolveImage("dir:/images/app"))?.plugin).toBe("dir");
    expect(asked).toEqual(["dir:/images/app"]);
  });

  it("resolves with undefined when no provider knows the reference", async () => {
    const { registry, host } = setup();
    registry.registerImagePlugin({ name: "none", resolveImage: () => undefined });
    expect(await host.image.resolveImage("alpine:3")).toBeUndefined();
  });

  it("fails with the plugin's PluginHookError when a fail-closed provider throws (mine, but broken), asking no later one", async () => {
    const { registry, host } = setup();
    const asked: string[] = [];
    registry.registerImagePlugin({ name: "broken", priority: 1, resolveImage: () => Promise.reject(new Error("layer missing")) });
    registry.registerImagePlugin({ name: "later", resolveImage: () => void asked.push("later") });
    const error = await rejectionOf(host.image.resolveImage("oci:/layout"));
    expect(error).toBeInstanceOf(PluginHookError);
    expect(error).toMatchObject({ plugin: "broken", hook: "ImagePlugin.resolveImage" });
    expect((error as Error).message).toMatch(/layer missing/);
    expect(asked).toEqual([]);
  });

  it("reports a fail-open provider's throw as a hookError event and asks the next provider", async () => {
    const { registry, host } = setup();
    const events: HookErrorEvent[] = [];
    host.events.on("hookError", (event) => events.push(event));
    registry.registerImagePlugin({ name: "flaky", priority: 1, failPolicy: "fail-open", resolveImage: () => { throw new Error("store offline"); } });
    registry.registerImagePlugin({ name: "fallback", resolveImage: () => image("/fallback") });
    expect((await host.image.resolveImage("dir:/images/app"))?.plugin).toBe("fallback");
    expect(events.map((e) => [e.plugin, e.failPolicy])).toEqual([["flaky", "fail-open"]]);
  });

  it("times out a provider that never answers", async () => {
    const { registry, host } = setup();
    registry.registerImagePlugin({ name: "stuck", timeoutMs: 30, resolveImage: () => forever() });
    const error = await rejectionOf(host.image.resolveImage("dir:/images/app"));
    expect(error).toBeInstanceOf(PluginTimeoutError);
    expect(error).toMatchObject({ plugin: "stuck", hook: "ImagePlugin.resolveImage" });
  });

  it("asks the next provider when a fail-open provider times out", async () => {
    const { registry, host } = setup();
    registry.registerImagePlugin({ name: "stuck", priority: 1, timeoutMs: 30, failPolicy: "fail-open", resolveImage: () => forever() });
    registry.registerImagePlugin({ name: "next", resolveImage: async () => image("/next") });
    expect((await host.image.resolveImage("dir:/images/app"))?.plugin).toBe("next");
  });

  it("refuses an answer without a rootfs path, naming the plugin and what to return", async () => {
    const { registry, host } = setup();
    registry.registerImagePlugin({ name: "sloppy", resolveImage: () => ({ config: {} }) as never });
    const error = await rejectionOf(host.image.resolveImage("dir:/images/app"));
    expect(error).toMatchObject({ plugin: "sloppy", hook: "ImagePlugin.resolveImage" });
    expect((error as Error).message).toMatch(/plugin "sloppy" failed in ImagePlugin.resolveImage: returned an image whose rootfs is undefined, not a path; return \{ rootfs:/);
  });

  it("refuses an answer whose config is not an object", async () => {
    const { registry, host } = setup();
    registry.registerImagePlugin({ name: "sloppy", resolveImage: () => ({ ref: "x", rootfs: "/r", config: "none" }) as never });
    expect(((await rejectionOf(host.image.resolveImage("x"))) as Error).message).toMatch(/config is string, not an object/);
  });

  it("fills in the asked reference when the answer has no ref", async () => {
    const { registry, host } = setup();
    registry.registerImagePlugin({ name: "short", resolveImage: () => ({ rootfs: "/r", config: {} }) as never });
    expect((await host.image.resolveImage("dir:/x"))?.image.ref).toBe("dir:/x");
  });

  it("shows the providers in the order they are asked in explain()", () => {
    const { registry, host } = setup();
    registry.registerImagePlugin({ name: "last", priority: -1, resolveImage: () => undefined });
    registry.registerImagePlugin({ name: "first", priority: 3, resolveImage: () => undefined });
    registry.registerImagePlugin({ name: "puller", postPull: () => undefined });
    expect(host.explain()["ImagePlugin.resolveImage"].map((e) => e.plugin)).toEqual(["first", "last"]);
  });

  it("rejects an empty reference before asking any provider", async () => {
    const { registry, host } = setup();
    const asked: string[] = [];
    registry.registerImagePlugin({ name: "p", resolveImage: () => void asked.push("p") });
    expect(((await rejectionOf(host.image.resolveImage(""))) as Error).message).toMatch(/ref must be a non-empty string/);
    expect(asked).toEqual([]);
  });
});
