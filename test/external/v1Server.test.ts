/**
 * The generic Docker v1 plugin server: routes, Activate, errors as {"Err"}, limits, socket handling.
 */
import { existsSync, statSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { listenV1Plugin, V1PluginError, type V1PluginServer } from "../../src/external/v1Server.js";
import { parsePluginAddress, V1Client } from "../../src/external/v1Client.js";
import { post, tempDir } from "./helpers.js";

let dir: { dir: string; cleanup(): Promise<void> };
let server: V1PluginServer | undefined;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  await dir.cleanup();
});

async function start(handlers: Parameters<typeof listenV1Plugin>[0]["handlers"], extra: { maxBodyBytes?: number } = {}): Promise<string> {
  const socket = join(dir.dir, "p.sock");
  server = await listenV1Plugin({ socket, implements: ["VolumeDriver"], handlers, ...extra });
  return socket;
}

describe("v1 plugin server", () => {
  it("answers Plugin.Activate with the implements list, as Docker's Manifest", async () => {
    const socket = await start({});
    const reply = await post(socket, "/Plugin.Activate");
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ Implements: ["VolumeDriver"] });
  });

  it("passes the parsed JSON body to the handler and sends its result as a 200 JSON reply", async () => {
    const socket = await start({ "VolumeDriver.Create": (body) => ({ Got: body, Err: "" }) });
    const reply = await post(socket, "/VolumeDriver.Create", '{"Name":"v1","Opts":{"k":"v"}}\n');
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ Got: { Name: "v1", Opts: { k: "v" } }, Err: "" });
  });

  it("gives the handler undefined for an empty body (a Go Client.Call with nil args)", async () => {
    let seen: unknown = "not called";
    const socket = await start({ "VolumeDriver.List": (body) => ((seen = body), { Volumes: [] }) });
    await post(socket, "/VolumeDriver.List");
    expect(seen).toBeUndefined();
  });

  it("replies {} when the handler returns nothing", async () => {
    const socket = await start({ "VolumeDriver.Remove": () => undefined });
    expect((await post(socket, "/VolumeDriver.Remove", "{}")).json).toEqual({});
  });

  it("answers an unknown method with 404 and an Err naming it", async () => {
    const socket = await start({});
    const reply = await post(socket, "/VolumeDriver.Nope", "{}");
    expect(reply.status).toBe(404);
    expect((reply.json as { Err: string }).Err).toContain('unknown method "VolumeDriver.Nope"');
  });

  it("turns a handler's error into a 500 with its message as Err", async () => {
    const socket = await start({
      "VolumeDriver.Create": () => {
        throw new Error("disk full");
      },
    });
    const reply = await post(socket, "/VolumeDriver.Create", "{}");
    expect(reply).toMatchObject({ status: 500, json: { Err: "disk full" } });
  });

  it("uses the status of a V1PluginError", async () => {
    const socket = await start({
      "VolumeDriver.Get": async () => {
        throw new V1PluginError("no such volume", 404);
      },
    });
    expect(await post(socket, "/VolumeDriver.Get", "{}")).toMatchObject({ status: 404, json: { Err: "no such volume" } });
  });

  it("rejects malformed JSON with 400 without calling the handler", async () => {
    let called = false;
    const socket = await start({ "VolumeDriver.Create": () => void (called = true) });
    const reply = await post(socket, "/VolumeDriver.Create", "{not json");
    expect(reply.status).toBe(400);
    expect((reply.json as { Err: string }).Err).toContain("not valid JSON");
    expect(called).toBe(false);
  });

  it("rejects a body over the size cap with 413", async () => {
    const socket = await start({ "VolumeDriver.Create": () => ({}) }, { maxBodyBytes: 100 });
    const reply = await post(socket, "/VolumeDriver.Create", JSON.stringify({ x: "y".repeat(200) }));
    expect(reply.status).toBe(413);
  });

  it("answers other HTTP methods with 405", async () => {
    const socket = await start({});
    expect((await post(socket, "/Plugin.Activate", undefined, "GET")).status).toBe(405);
  });

  it("lets a stream handler read the request and write the reply as streams", async () => {
    const socket = await start({
      "ContainerPlugin.PreUpdate": {
        stream: async (req, res) => {
          res.writeHead(200);
          for await (const chunk of req) res.write(String(chunk).toUpperCase());
          res.end();
        },
      },
    });
    const reply = await new Promise<string>((resolve, reject) => {
      const req = request({ socketPath: socket, path: "/ContainerPlugin.PreUpdate", method: "POST" }, (res) => {
        let text = "";
        res.on("data", (c) => (text += String(c)));
        res.on("end", () => resolve(text));
      });
      req.on("error", reject);
      Readable.from(["abc", "def"]).pipe(req);
    });
    expect(reply).toBe("ABCDEF");
  });

  it("creates its socket file with mode 0600 and removes it on close", async () => {
    const socket = await start({});
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    await server!.close();
    expect(existsSync(socket)).toBe(false);
  });

  it("replaces a stale socket file left by a previous run", async () => {
    const socket = await start({});
    const first = server!;
    // simulate a crash: the file stays, nobody listens
    first.server.close();
    await new Promise((r) => setTimeout(r, 10));
    server = await listenV1Plugin({ socket, implements: ["X"], handlers: {} });
    expect((await post(socket, "/Plugin.Activate")).json).toEqual({ Implements: ["X"] });
  });

  it("refuses a socket that another live server serves, and leaves that server serving", async () => {
    const socket = await start({});
    await expect(listenV1Plugin({ socket, implements: ["X"], handlers: {} })).rejects.toThrow(/another process already serves this socket/);
    expect((await post(socket, "/Plugin.Activate")).json).toEqual({ Implements: ["VolumeDriver"] });
  });

  it("close() ends promptly when a keep-alive call is in flight, after that call got its reply", async () => {
    const socket = await start({ "VolumeDriver.Get": () => new Promise((resolve) => setTimeout(() => resolve({ Err: "" }), 200)) });
    const client = new V1Client(parsePluginAddress(`unix://${socket}`));
    try {
      const reply = client.call("VolumeDriver.Get", {});
      await new Promise((r) => setTimeout(r, 50));
      const began = performance.now();
      const closed = server!.close();
      expect(await reply).toEqual({ Err: "" });
      await closed;
      expect(performance.now() - began).toBeLessThan(5000); // keepAliveTimeout is 60 s
      server = undefined;
    } finally {
      client.close();
    }
  });

  it("a client call cancelled through an AbortSignal rejects with the signal's reason, not the abort event", async () => {
    const socket = await start({ "VolumeDriver.Get": () => new Promise((resolve) => setTimeout(() => resolve({ Err: "" }), 2000)) });
    const client = new V1Client(parsePluginAddress(`unix://${socket}`));
    try {
      const controller = new AbortController();
      const reason = new Error("the caller gave up");
      const reply = client.call("VolumeDriver.Get", {}, controller.signal);
      setTimeout(() => controller.abort(reason), 50);
      await expect(reply).rejects.toBe(reason);
    } finally {
      client.close();
    }
  });

  it("refuses to replace a file that is not a socket", async () => {
    const path = join(dir.dir, "file.sock");
    await import("node:fs/promises").then((fs) => fs.writeFile(path, "x"));
    await expect(listenV1Plugin({ socket: path, implements: [], handlers: {} })).rejects.toThrow(/not a socket/);
  });

  it("listens on a TCP port and reports its address", async () => {
    server = await listenV1Plugin({ port: 0, implements: ["ContainerPlugin"], handlers: {} });
    expect(server.address).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    const reply = await new Promise<string>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port: server!.port, path: "/Plugin.Activate", method: "POST" }, (res) => {
        let text = "";
        res.on("data", (c) => (text += String(c)));
        res.on("end", () => resolve(text));
      });
      req.on("error", reject);
      req.end();
    });
    expect(JSON.parse(reply)).toEqual({ Implements: ["ContainerPlugin"] });
  });
});
