/**
 * Hostile and broken plugins: each failure is a clear PluginHookError naming the plugin and the hook, the host keeps
 * serving, and health holds back a plugin after consecutive failures.
 */
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHost, createRegistry, PluginHookError, PluginTimeoutError, type Host, type PluginHealthEvent, type PluginRegistry } from "hookplugins";
import { listenV1Plugin, loadExternalPlugins, type ExternalPluginOptions, type ExternalPlugins, type V1Handler, type V1PluginServer, type V1StreamHandler } from "hookplugins/external";
import { sleep, tempDir } from "./helpers.js";

let tmp: { dir: string; cleanup(): Promise<void> };
let socketDir: string;
let registry: PluginRegistry;
let external: ExternalPlugins | undefined;
let host: Host | undefined;
let server: V1PluginServer | undefined;

beforeEach(async () => {
  tmp = await tempDir();
  socketDir = join(tmp.dir, "sockets");
  await mkdir(socketDir);
  registry = createRegistry();
});
afterEach(async () => {
  await host?.close();
  host = undefined;
  external = undefined;
  await server?.close();
  server = undefined;
  await tmp.cleanup();
});

/** A hand-written plugin "p" whose preCreate is `preCreate`. */
async function fakePlugin(preCreate: V1Handler, caps: Record<string, unknown> = {}, name = "p"): Promise<V1PluginServer> {
  server = await listenV1Plugin({
    socket: join(socketDir, `${name}.sock`),
    implements: ["ContainerPlugin"],
    handlers: {
      "Plugin.Capabilities": () => ({ Name: name, Plugins: [{ Type: "ContainerPlugin", Priority: 0, Hooks: ["preCreate"], ...caps }] }),
      "ContainerPlugin.PreCreate": preCreate,
    },
  });
  return server;
}

async function load(options: ExternalPluginOptions = {}, timeoutMs = 20_000): Promise<Host> {
  external = await loadExternalPlugins(registry, { socketDirs: [socketDir] }, { retryTotalMs: 300, retryInitialDelayMs: 50, ...options });
  host = createHost({ registry, external, timeoutMs });
  return host;
}

async function failure(h: Host): Promise<PluginHookError> {
  const error = await h.container.preCreate({ Image: "x" }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PluginHookError);
  expect(error).toMatchObject({ plugin: "p", hook: "ContainerPlugin.preCreate" });
  return error as PluginHookError;
}

/** A raw handler: the v1 server's JSON handlers always send JSON, so send bytes through a stream handler instead. */
function raw(status: number, body: string | Buffer): V1StreamHandler {
  return {
    stream: async (req, res) => {
      req.resume();
      res.writeHead(status);
      res.end(body);
    },
  };
}

async function rawPlugin(handler: ReturnType<typeof raw>): Promise<void> {
  server = await listenV1Plugin({
    socket: join(socketDir, "p.sock"),
    implements: ["ContainerPlugin"],
    handlers: {
      "Plugin.Capabilities": () => ({ Name: "p", Plugins: [{ Type: "ContainerPlugin", Hooks: ["preCreate"] }] }),
      "ContainerPlugin.PreCreate": handler,
    },
  });
}

describe("a broken external plugin", () => {
  it("that replies with bad JSON fails the hook saying so", async () => {
    await rawPlugin(raw(200, "{not json"));
    expect((await failure(await load())).message).toMatch(/reply of ContainerPlugin.PreCreate is not valid JSON/);
  });

  it("that replies with a wrong shape fails the hook naming the field", async () => {
    await fakePlugin(() => ({ Config: "all good" }));
    expect((await failure(await load())).message).toMatch(/reply of ContainerPlugin.PreCreate has Config string "all good"; it must be an object/);
  });

  it("that replies with a JSON array fails the hook", async () => {
    await rawPlugin(raw(200, "[1,2]"));
    expect((await failure(await load())).message).toMatch(/must be a JSON object, got an array/);
  });

  it("that sends a reply over the size cap fails the hook", async () => {
    await fakePlugin(() => ({ Config: { Image: "x", Padding: "y".repeat(20_000) } }));
    expect((await failure(await load({ maxReplyBytes: 10_000 }))).message).toMatch(/reply of ContainerPlugin.PreCreate is over the limit of 10000 bytes/);
  });

  it("that replies 200 with an Err fails the hook with that Err", async () => {
    await fakePlugin(() => ({ Err: "quota exceeded" }));
    const error = await failure(await load());
    expect(error.message).toBe('plugin "p" failed in ContainerPlugin.preCreate: quota exceeded');
  });

  it("that replies 500 with plain text fails the hook with that text", async () => {
    await rawPlugin(raw(500, "plain text failure"));
    expect(((await failure(await load())).cause as Error).message).toBe("plain text failure");
  });

  it("that accepts and never answers times out at its limit", async () => {
    await fakePlugin(() => new Promise(() => {}), { TimeoutMs: 200 });
    const started = Date.now();
    const error = await failure(await load());
    expect(error).toBeInstanceOf(PluginTimeoutError);
    expect(Date.now() - started).toBeLessThan(5000); // the plugin's 200 ms, far below the host's 20 s
  });

  it("that times out has its call cancelled: the host closes the connection and the plugin's signal aborts", async () => {
    let aborted: unknown;
    await fakePlugin((_body, request) => new Promise(() => request.signal.addEventListener("abort", () => (aborted = request.signal.reason))), { TimeoutMs: 200 });
    expect(await failure(await load())).toBeInstanceOf(PluginTimeoutError);
    for (let i = 0; i < 100 && aborted === undefined; i++) await sleep(20);
    expect(String(aborted)).toContain("went away");
  });

  it("whose socket no longer accepts connections fails the hook at once", async () => {
    await fakePlugin((body) => body);
    const h = await load();
    server!.server.close();
    server!.server.closeAllConnections();
    const started = Date.now();
    expect((await failure(h)).message).toMatch(/cannot connect to unix:\/\/.*p\.sock/);
    expect(Date.now() - started).toBeLessThan(5000); // far below the 20 s limit
  });

  it("whose socket file was removed while it runs fails the hook saying there is no socket", async () => {
    await fakePlugin((body) => (body as { Config: object }));
    const h = await load();
    await h.container.preCreate({ Image: "x" });
    await rm(join(socketDir, "p.sock"));
    server!.server.closeAllConnections();
    expect((await failure(h)).message).toMatch(/no socket there/);
  });

  it("that drops the connection mid-call fails the hook at once, not at its time limit", async () => {
    server = await listenV1Plugin({
      socket: join(socketDir, "p.sock"),
      implements: ["ContainerPlugin"],
      handlers: {
        "Plugin.Capabilities": () => ({ Name: "p", Plugins: [{ Type: "ContainerPlugin", Hooks: ["preCreate"], TimeoutMs: 5000 }] }),
        "ContainerPlugin.PreCreate": { stream: async (req) => void req.socket.destroy() },
      },
    });
    const h = await load();
    const started = Date.now();
    expect((await failure(h)).message).toMatch(/connection to the plugin broke/);
    expect(Date.now() - started).toBeLessThan(5000); // far below the 20 s limit
  });

  it("leaves the host serving: a healthy plugin's call works right after a broken one's", async () => {
    await fakePlugin(() => ({ Config: "bad" }));
    const h = await load();
    registry.registerContainerPlugin({ name: "local", preCreate: (_c, cfg) => ({ ...cfg, Labels: { ok: "1" } }) });
    h.disable("p");
    await expect(h.container.preCreate({ Image: "x" })).resolves.toEqual({ Image: "x", Labels: { ok: "1" } });
  });
});

describe("keep-alive pooling", () => {
  it("gives each of 1,000 concurrent calls its own reply", async () => {
    await fakePlugin(async (body) => {
      await sleep(Math.random() * 5);
      return body;
    });
    const h = await load({}, 60_000); // a correctness test: 1,000 calls queue behind 64 connections on a loaded machine
    const replies = await Promise.all(Array.from({ length: 1000 }, (_, i) => h.container.preCreate({ Image: `image-${i}` })));
    expect(replies.map((r) => r.Image)).toEqual(Array.from({ length: 1000 }, (_, i) => `image-${i}`));
  });

  it("reuses connections instead of opening one per call", async () => {
    await fakePlugin((body) => body);
    const h = await load();
    let connections = 0;
    server!.server.on("connection", () => connections++);
    for (let i = 0; i < 50; i++) await h.container.preCreate({ Image: "x" });
    expect(connections).toBeLessThan(2); // the activation's connection, at most one more
  });
});

describe("health", () => {
  async function unhealthyAfterThree(caps: Record<string, unknown>): Promise<{ h: Host; events: PluginHealthEvent[]; calls: () => number }> {
    let calls = 0;
    await fakePlugin(() => {
      calls++;
      return { Config: 42 };
    }, caps);
    const h = await load({ health: { failureThreshold: 3, coolDownMs: 300 } });
    const events: PluginHealthEvent[] = [];
    h.events.on("pluginHealth", (e) => events.push(e));
    for (let i = 0; i < 3; i++) await h.container.preCreate({ Image: "x" }).catch(() => undefined);
    return { h, events, calls: () => calls };
  }

  it("holds a plugin unhealthy after consecutive failures and reports the change", async () => {
    const { events } = await unhealthyAfterThree({});
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ plugin: "p", healthy: false, consecutiveFailures: 3 });
    expect(events[0]!.error?.message).toMatch(/has Config number 42/);
  });

  it("fails fail-closed calls fast with the last error while unhealthy, without calling the plugin", async () => {
    const { h, calls } = await unhealthyAfterThree({});
    const error = await failure(h);
    expect(error.message).toMatch(/held unhealthy after 3 consecutive failures.*last error: the reply of ContainerPlugin.PreCreate has Config number 42/);
    expect(calls()).toBe(3);
  });

  it("skips fail-open plugins while unhealthy", async () => {
    const { h, calls } = await unhealthyAfterThree({ FailPolicy: "fail-open" });
    const errors: unknown[] = [];
    h.events.on("hookError", (e) => errors.push(e));
    expect(await h.container.preCreate({ Image: "x" })).toEqual({ Image: "x" });
    expect(errors).toEqual([]);
    expect(calls()).toBe(3);
  });

  it("tries the plugin again after the cool-down and reports it healthy when it works", async () => {
    let good = false;
    await fakePlugin((body) => (good ? body : { Config: 42 }));
    const h = await load({ health: { failureThreshold: 2, coolDownMs: 200 } });
    const events: PluginHealthEvent[] = [];
    h.events.on("pluginHealth", (e) => events.push(e));
    for (let i = 0; i < 2; i++) await h.container.preCreate({ Image: "x" }).catch(() => undefined);
    good = true;
    await sleep(250);
    await expect(h.container.preCreate({ Image: "x" })).resolves.toEqual({ Image: "x" });
    expect(events.map((e) => e.healthy)).toEqual([false, true]);
  });

  it("does not count a plugin's deliberate Err answers as failures", async () => {
    await fakePlugin(() => ({ Err: "denied by policy" }));
    const h = await load({ health: { failureThreshold: 2, coolDownMs: 10_000 } });
    const events: PluginHealthEvent[] = [];
    h.events.on("pluginHealth", (e) => events.push(e));
    for (let i = 0; i < 5; i++) expect((await failure(h)).message).toMatch(/denied by policy$/);
    expect(events).toEqual([]);
  });
});
