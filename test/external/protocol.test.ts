/**
 * The protocol's names and versions: PascalCase wire methods, version negotiation in Plugin.Capabilities, what a
 * plugin that knows nothing of versions gets, and an external APIPlugin's routes relayed through APIPlugin.Serve.
 */
import { mkdir } from "node:fs/promises";
import { createServer, request, type Server } from "node:http";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from "vitest";
import { createHost, createRegistry, type HandlerFunction, type Host, type PluginLogEvent } from "hookplugins";
import {
  hookOfWireCall,
  listenV1Plugin,
  loadExternalPlugins,
  serve,
  wireCallOf,
  type Capabilities,
  type ExternalPlugins,
  type HookPluginServer,
  type V1PluginServer,
} from "hookplugins/external";
import { post, tempDir } from "./helpers.js";

let tmp: { dir: string; cleanup(): Promise<void> };
let socketDir: string;
const closers: Array<() => Promise<unknown> | unknown> = [];
beforeEach(async () => {
  tmp = await tempDir();
  socketDir = join(tmp.dir, "s");
  await mkdir(socketDir);
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await tmp.cleanup();
});

async function fake(caps: Record<string, unknown>, handlers: Parameters<typeof listenV1Plugin>[0]["handlers"] = {}, implementsList = ["ContainerPlugin"]): Promise<V1PluginServer> {
  const server = await listenV1Plugin({ socket: join(socketDir, "p.sock"), implements: implementsList, handlers: { "Plugin.Capabilities": () => caps, ...handlers } });
  closers.push(() => server.close());
  return server;
}

async function load(): Promise<{ external: ExternalPlugins; host: Host }> {
  const registry = createRegistry();
  const external = await loadExternalPlugins(registry, { socketDirs: [socketDir] }, { retryTotalMs: 100 });
  closers.push(() => external.close());
  return { external, host: createHost({ registry }) };
}

describe("wire names", () => {
  it("spell hook methods in Docker's PascalCase", () => {
    expect(wireCallOf("ContainerPlugin.preCreate")).toBe("ContainerPlugin.PreCreate");
    expect(wireCallOf("DaemonPlugin.preStopHook")).toBe("DaemonPlugin.PreStopHook");
    expect(wireCallOf("APIPlugin.updateHandler")).toBe("APIPlugin.Serve");
    expect(hookOfWireCall("CriPlugin.PreCreateContainer")).toBe("CriPlugin.preCreateContainer");
    expect(hookOfWireCall("ContainerPlugin.Nope")).toBeUndefined();
  });
});

describe("protocol versions", () => {
  it("the host offers the versions it speaks in Plugin.Capabilities", async () => {
    let offered: unknown;
    await fake({}, {
      "Plugin.Capabilities": (body) => {
        offered = body;
        return { Name: "p", Plugins: [{ Type: "ContainerPlugin", Hooks: ["preCreate"] }] };
      },
    });
    await load();
    expect(offered).toEqual({ ProtocolVersions: [1] });
  });

  it("a plugin that names no version is spoken to as version 1", async () => {
    await fake({ Name: "p", Plugins: [{ Type: "ContainerPlugin", Hooks: ["preCreate"] }] }, { "ContainerPlugin.PreCreate": () => ({ Config: { Image: "changed" } }) });
    const { host, external } = await load();
    expect(external.list()[0]!.capabilities.ProtocolVersion).toBe(1);
    expect(await host.container.preCreate({ Image: "x" })).toEqual({ Image: "changed" });
  });

  it("a plugin that chooses a version the host does not speak fails to load, saying both", async () => {
    await fake({ Name: "p", ProtocolVersion: 2, Plugins: [{ Type: "ContainerPlugin", Hooks: ["preCreate"] }] });
    await expect(load()).rejects.toThrow(/it chose protocol version 2, but this host speaks 1/);
  });

  it("serve() refuses a host that offers only versions it does not speak", async () => {
    const server = await serve({ name: "p", preCreate: () => undefined }, { socket: join(socketDir, "p.sock"), handleSignals: false });
    closers.push(() => server.close());
    const reply = await post(server.socketPath!, "/Plugin.Capabilities", JSON.stringify({ ProtocolVersions: [7] }));
    expect(reply.status).toBe(400);
    expect((reply.json as { Err: string }).Err).toMatch(/speaks hook protocol 1/);
  });

  it("a Docker plugin without Plugin.Capabilities fails to load with a clear error", async () => {
    const server = await listenV1Plugin({ socket: join(socketDir, "p.sock"), implements: ["VolumeDriver"], handlers: {} });
    closers.push(() => server.close());
    await expect(load()).rejects.toThrow(/does not answer Plugin.Capabilities \(404\), so it is a Docker plugin but not a hook plugin/);
  });

  it("capabilities naming a hook the interface does not have fail to load, naming it", async () => {
    await fake({ Name: "p", Plugins: [{ Type: "ContainerPlugin", Hooks: ["PreCreate"] }] });
    await expect(load()).rejects.toThrow(/Hooks has "PreCreate", which is not a ContainerPlugin method .*camelCase/);
  });
});

describe("an external APIPlugin", () => {
  it("adds its Routes to the host's route table and answers them through APIPlugin.Serve", async () => {
    let seen: unknown;
    await fake(
      { Name: "p", Plugins: [{ Type: "APIPlugin", Hooks: ["updateHandler"], Routes: [{ Method: "get", Path: "/acme/status" }] }] },
      {
        "APIPlugin.Serve": (body) => {
          seen = body;
          return { Status: 202, Headers: { "x-acme": "1" }, Body: Buffer.from("all good").toString("base64") };
        },
      },
      ["APIPlugin"],
    );
    const { host } = await load();
    const routes = await host.api.updateHandler([]);
    expect(routes.map((r) => [r.method, r.path])).toEqual([["GET", "/acme/status"]]);
    const api: Server = createServer((req, res) => void (routes[0]!.handler as HandlerFunction)(req, res, {}));
    await new Promise<void>((r) => api.listen(join(tmp.dir, "api.sock"), r));
    closers.push(() => new Promise((r) => api.close(r)));
    const reply = await new Promise<{ status: number; header: unknown; text: string }>((resolve, reject) => {
      const req = request({ socketPath: join(tmp.dir, "api.sock"), path: "/acme/status?x=1", method: "GET" }, (res) => {
        let text = "";
        res.on("data", (c) => (text += String(c)));
        res.on("end", () => resolve({ status: res.statusCode!, header: res.headers["x-acme"], text }));
      });
      req.on("error", reject);
      req.end();
    });
    expect(reply).toEqual({ status: 202, header: "1", text: "all good" });
    expect(seen).toMatchObject({ Method: "GET", Path: "/acme/status?x=1", Body: "" });
  });

  it("cannot be served from a TypeScript object, with a message saying what to do", async () => {
    await expect(serve({ name: "api", updateHandler: () => undefined }, { socket: join(socketDir, "api.sock"), handleSignals: false })).rejects.toThrow(
      /APIPlugin "api" cannot be served out of process/,
    );
  });
});

describe("types", () => {
  it("host.close() resolves once external plugins are stopped, and pluginLog is a typed host event", () => {
    expectTypeOf<Host["close"]>().returns.toEqualTypeOf<Promise<void>>();
    const host = createHost({ registry: createRegistry() });
    host.events.on("pluginLog", (event) => expectTypeOf(event).toEqualTypeOf<PluginLogEvent>());
    // @ts-expect-error an unknown event name does not compile
    host.events.on("pluginLogs", () => undefined);
    void host.close();
  });

  it("serve() resolves with the server and what it announces", () => {
    expectTypeOf(serve).returns.resolves.toEqualTypeOf<HookPluginServer>();
    expectTypeOf<HookPluginServer["capabilities"]>().toEqualTypeOf<Capabilities>();
    // @ts-expect-error serve needs a socket or a port
    void (() => serve({ name: "x", preCreate: () => undefined }, {}));
  });
});
