import { Readable } from "node:stream";
import {
  PluginHookError,
  type ContainerCreateConfig,
  type HandlerSpec,
  type HookContext,
  type SandboxMeta,
} from "hookplugins";
import { describe, expect, it } from "vitest";
import { config, drivers, noopHandler, rejectionOf, routes, setup, sleep } from "./helpers.js";

describe("host calls", () => {
  it.each(drivers.map((d) => [d.hook, d] as const))(
    "%s returns a Promise even when every plugin is sync",
    async (_hook, driver) => {
      const { registry, host } = setup();
      driver.register(registry, { name: "sync" }, () => undefined);
      const result = driver.call(host);
      expect(result).toBeInstanceOf(Promise);
      await result;
    },
  );

  it.each(drivers.map((d) => [d.hook, d] as const))(
    "%s passes a HookContext with an AbortSignal, the plugin name and the hook name first",
    async (hook, driver) => {
      const { registry, host } = setup();
      const seen: HookContext[] = [];
      driver.register(registry, { name: "ctx-reader" }, (ctx) => seen.push(ctx));
      await driver.call(host);
      expect(seen).toHaveLength(1);
      expect(seen[0]?.signal).toBeInstanceOf(AbortSignal);
      expect(seen[0]?.signal.aborted).toBe(false);
      expect(seen[0]?.plugin).toBe("ctx-reader");
      expect(seen[0]?.hook).toBe(hook);
    },
  );

  it.each(drivers.map((d) => [d.hook, d] as const))("%s accepts an async plugin method", async (_hook, driver) => {
    const { registry, host } = setup();
    let done = false;
    driver.register(registry, { name: "async" }, async () => {
      await sleep(2);
      done = true;
    });
    await driver.call(host);
    expect(done).toBe(true);
  });

  it("resolves before any timer runs with the very same input when no plugin is registered", async () => {
    const { host } = setup();
    const input = config();
    const endpoint = { Name: "ep" };
    const volume = { Name: "v" };
    const handlers = routes();
    const body = Readable.from(["x"]);
    const timer = new Promise((resolve) => setTimeout(() => resolve("timer"), 0));
    const results = Promise.all([
      host.container.preCreate(input),
      host.container.preCreateEndpoint("c1", [], endpoint),
      host.volume.preVolumeCreate(volume),
      host.cri.preCreateContainer(input, {}),
      host.api.updateHandler(handlers),
      host.container.preUpdate(body),
      host.container.postUpdate("/rootfs", []),
      host.image.postPull("overlayfs", {}),
      host.daemon.preStart(),
      host.daemon.preStop(),
    ]);
    const first = await Promise.race([results, timer]);
    expect(first).not.toBe("timer");
    const [c, e, v, cri, h, b, ...nothing] = first as unknown[];
    expect(c).toBe(input);
    expect(e).toBe(endpoint);
    expect(v).toBe(volume);
    expect(cri).toBe(input);
    expect(h).toBe(handlers);
    expect(b).toBe(body);
    expect(nothing).toEqual([undefined, undefined, undefined, undefined]);
  });

  it("resolves preStart with the builtin hooks, sorted, when no plugin is registered", async () => {
    const { host } = setup();
    const builtin = [
      { priority: 0, path: "/usr/bin/net" },
      { priority: 5, path: "/usr/bin/first" },
    ];
    expect(await host.container.preStart({}, { builtin })).toEqual([builtin[1], builtin[0]]);
  });
});

describe("preCreate waterfall", () => {
  it("lets each plugin see the previous plugin's result", async () => {
    const { registry, host } = setup();
    const seen: string[] = [];
    registry.registerContainerPlugin({
      name: "first",
      priority: 2,
      preCreate(_ctx, c) {
        c.Labels = { step: "1" };
      },
    });
    registry.registerContainerPlugin({
      name: "second",
      priority: 1,
      preCreate(_ctx, c) {
        seen.push(`second saw ${c.Labels?.["step"]}`);
        return { ...c, Labels: { step: "2" } };
      },
    });
    registry.registerContainerPlugin({
      name: "third",
      preCreate: async (_ctx, c) => {
        seen.push(`third saw ${c.Labels?.["step"]}`);
      },
    });
    const result = await host.container.preCreate(config());
    expect(seen).toEqual(["second saw 1", "third saw 2"]);
    expect(result.Labels).toEqual({ step: "2" });
  });

  it("resolves with the caller's own object when plugins mutate it in place", async () => {
    const { registry, host } = setup();
    registry.registerContainerPlugin({
      name: "mutator",
      preCreate(_ctx, c) {
        c.Env = ["A=1"];
      },
    });
    const input = config();
    const result = await host.container.preCreate(input);
    expect(result).toBe(input);
    expect(input.Env).toEqual(["A=1"]);
  });

  it("resolves with the replacement object a plugin returns", async () => {
    const { registry, host } = setup();
    const replacement: ContainerCreateConfig = { Image: "alpine" };
    registry.registerContainerPlugin({ name: "replacer", preCreate: async () => replacement });
    expect(await host.container.preCreate(config())).toBe(replacement);
  });

  it("keeps the previous value when a plugin returns nothing", async () => {
    const { registry, host } = setup();
    const replacement: ContainerCreateConfig = { Image: "alpine" };
    registry.registerContainerPlugin({ name: "replacer", priority: 1, preCreate: () => replacement });
    registry.registerContainerPlugin({ name: "observer", preCreate: () => undefined });
    expect(await host.container.preCreate(config())).toBe(replacement);
  });

  it.each([
    ["a number", 42],
    ["a string", "config"],
    ["null", null],
    ["an array", []],
  ])("rejects with a PluginHookError naming the plugin when it returns %s", async (_label, bad) => {
    const { registry, host } = setup();
    let laterRan = false;
    registry.registerContainerPlugin({ name: "bad-return", priority: 1, preCreate: (() => bad) as never });
    registry.registerContainerPlugin({ name: "later", preCreate: () => void (laterRan = true) });
    const error = await rejectionOf(host.container.preCreate(config()));
    expect(error).toBeInstanceOf(PluginHookError);
    expect((error as PluginHookError).plugin).toBe("bad-return");
    expect((error as PluginHookError).hook).toBe("ContainerPlugin.preCreate");
    expect((error as Error).message).toMatch(/^plugin "bad-return" failed in ContainerPlugin\.preCreate: returned /);
    expect(laterRan).toBe(false);
  });
});

describe("concurrent calls", () => {
  it("keeps the values of concurrent calls on one host apart", async () => {
    const { registry, host } = setup();
    registry.registerContainerPlugin({
      name: "slow-tag",
      preCreate: async (_ctx, c) => {
        await sleep(c.Image === "first" ? 20 : 1);
        c.Labels = { image: c.Image };
      },
    });
    registry.registerContainerPlugin({ name: "copy", priority: -1, preCreate: (_ctx, c) => ({ ...c, Hostname: c.Image }) });
    const [first, second] = await Promise.all([
      host.container.preCreate({ Image: "first" }),
      host.container.preCreate({ Image: "second" }),
    ]);
    expect(first).toEqual({ Image: "first", Labels: { image: "first" }, Hostname: "first" });
    expect(second).toEqual({ Image: "second", Labels: { image: "second" }, Hostname: "second" });
  });
});

describe("the other hook points", () => {
  it("preCreateEndpoint passes container id, env and endpoint, and runs as a waterfall on the endpoint", async () => {
    const { registry, host } = setup();
    const seen: unknown[] = [];
    registry.registerContainerPlugin({
      name: "ep1",
      priority: 1,
      preCreateEndpoint(_ctx, id, env, ep) {
        seen.push(id, env);
        return { ...ep, MacAddress: "02:42:ac:11:00:02" };
      },
    });
    registry.registerContainerPlugin({
      name: "ep2",
      preCreateEndpoint(_ctx, _id, _env, ep) {
        ep.Priority = ep.MacAddress ? 7 : -1;
      },
    });
    const env = ["A=1"];
    const result = await host.container.preCreateEndpoint("c1", env, { Name: "ep" });
    expect(seen).toEqual(["c1", env]);
    expect(result).toEqual({ Name: "ep", MacAddress: "02:42:ac:11:00:02", Priority: 7 });
  });

  it("postUpdate passes rootfs and env to every plugin and resolves with nothing", async () => {
    const { registry, host } = setup();
    const seen: unknown[] = [];
    registry.registerContainerPlugin({ name: "u1", postUpdate: (_ctx, rootfs, env) => void seen.push(["u1", rootfs, env]) });
    registry.registerContainerPlugin({
      name: "u2",
      postUpdate: async (_ctx, rootfs, env) => void seen.push(["u2", rootfs, env]),
    });
    const result = await host.container.postUpdate("/var/lib/c1/rootfs", ["B=2"]);
    expect(result).toBeUndefined();
    expect(seen).toEqual([
      ["u1", "/var/lib/c1/rootfs", ["B=2"]],
      ["u2", "/var/lib/c1/rootfs", ["B=2"]],
    ]);
  });

  it("preVolumeCreate runs as a waterfall on the volume config", async () => {
    const { registry, host } = setup();
    registry.registerVolumePlugin({
      name: "driver",
      priority: 1,
      preVolumeCreate(_ctx, v) {
        v.Driver = "local";
      },
    });
    registry.registerVolumePlugin({ name: "labels", preVolumeCreate: async (_ctx, v) => ({ ...v, Labels: { driver: v.Driver ?? "none" } }) });
    expect(await host.volume.preVolumeCreate({ Name: "v1" })).toEqual({ Name: "v1", Driver: "local", Labels: { driver: "local" } });
  });

  it("cri.preCreateContainer passes the sandbox metadata and runs as a waterfall on the config", async () => {
    const { registry, host } = setup();
    const seenMeta: SandboxMeta[] = [];
    registry.registerCriPlugin({
      name: "lxcfs",
      preCreateContainer(_ctx, c, meta) {
        seenMeta.push(meta);
        return { ...c, Env: [`SANDBOX=${meta.ID ?? ""}`] };
      },
    });
    registry.registerCriPlugin({
      name: "second",
      priority: -1,
      preCreateContainer(_ctx, c) {
        c.Env?.push("SECOND=1");
      },
    });
    const meta: SandboxMeta = { ID: "sb-1", LxcfsEnabled: true };
    const result = await host.cri.preCreateContainer(config(), meta);
    expect(seenMeta[0]).toBe(meta);
    expect(result.Env).toEqual(["SANDBOX=sb-1", "SECOND=1"]);
  });

  it("api.updateHandler resolves with the final handler list after every plugin added or wrapped routes", async () => {
    const { registry, host } = setup();
    const extra = (): void => {};
    registry.registerAPIPlugin({
      name: "add-route",
      priority: 1,
      updateHandler: (_ctx, handlers) => [...handlers, { method: "GET", path: "/plugin/info", handler: extra }],
    });
    const wrapped: string[] = [];
    registry.registerAPIPlugin({
      name: "wrap-all",
      updateHandler(_ctx, handlers) {
        for (const spec of handlers) wrapped.push(`${spec.method} ${spec.path}`);
        handlers.reverse();
      },
    });
    const result = await host.api.updateHandler(routes());
    expect(wrapped).toEqual(["GET /_ping", "GET /plugin/info"]);
    expect(result.map((h) => h.path)).toEqual(["/plugin/info", "/_ping"]);
    expect(result[0]?.handler).toBe(extra);
  });

  it.each([
    ["a route without a leading slash", { method: "GET", path: "info", handler: noopHandler }],
    ["an empty method", { method: "", path: "/info", handler: noopHandler }],
    ["a route without a handler", { method: "GET", path: "/info" }],
    ["something that is not a spec", "GET /info"],
  ])("api.updateHandler rejects %s with a PluginHookError naming the plugin", async (_label, spec) => {
    const { registry, host } = setup();
    registry.registerAPIPlugin({
      name: "bad-route",
      updateHandler: (_ctx, handlers) => [...handlers, spec as unknown as HandlerSpec],
    });
    const error = await rejectionOf(host.api.updateHandler(routes()));
    expect(error).toBeInstanceOf(PluginHookError);
    expect((error as PluginHookError).plugin).toBe("bad-route");
    expect((error as Error).message).toMatch(/handler spec #1/);
  });

  it("image.postPull passes the snapshotter and the image to every plugin", async () => {
    const { registry, host } = setup();
    const seen: unknown[] = [];
    registry.registerImagePlugin({ name: "scan", postPull: (_ctx, snapshotter, image) => void seen.push(snapshotter, image) });
    const image = { Id: "sha256:abc", RepoTags: ["busybox:latest"] };
    expect(await host.image.postPull("overlayfs", image)).toBeUndefined();
    expect(seen[0]).toBe("overlayfs");
    expect(seen[1]).toBe(image);
  });
});
