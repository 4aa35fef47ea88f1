/**
 * In-process routes: handlers get Node's own req, res and params through the relay's internal http.Server, their
 * answers reach the client on a connection that stays alive, failures become Docker-style JSON errors, and the
 * UpstreamClient they use to reach the engine.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { describe, expect, it } from "vitest";
import { RouteHandlerError } from "../../../src/docker/proxy/inProcessServer.js";
import { compileRoutes } from "../../../src/docker/proxy/routeMatcher.js";
import type { ProxyHandler } from "../../../src/docker/proxy/routeTypes.js";
import { UpstreamClient, UpstreamResponseTooLargeError, UpstreamUnavailableError } from "../../../src/docker/proxy/upstreamClient.js";
import { endlessStream, engineConnectionDestroyed, fakeEngine, jsonBody, ok, rawClient, simpleAnswers, startRelay, until, useRelayTest, type EngineConnection, type StartedRelay } from "./harness.js";

let upstream: UpstreamClient | undefined;
const t = useRelayTest(() => {
  upstream?.close();
  upstream = undefined;
});

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

async function relayWith(method: string, path: string, handler: ProxyHandler): Promise<StartedRelay> {
  t.relay = await startRelay(t.dir, t.enginePath(), { routes: compileRoutes([{ method, path, handler }]), onError: (e) => t.reported.push(e) });
  return t.relay;
}

describe("in-process routes", () => {
  it("gives the handler Node's req, res and params, and keeps the connection alive for passthrough requests after it", async () => {
    t.engine = await fakeEngine(t.enginePath(), simpleAnswers((head) => ok(`engine ${head.split(" ")[1]!}`)));
    const seen: unknown[] = [];
    await relayWith("POST", "/containers/{id}/start", async (req, res, params) => {
      const body = await readBody(req);
      seen.push({ method: req.method, url: req.url, params, agent: req.headers["user-agent"], body: body.toString(), local: req.socket.remoteAddress === undefined });
      res.writeHead(204, { "Api-Version": "1.41" }).end();
    });
    const client = await rawClient(t.relay!.path);
    client.socket.write("POST /v1.41/containers/c%2D1/start?detachKeys=x HTTP/1.1\r\nHost: api.moby.localhost\r\nUser-Agent: Docker-Client/28.2.2 (linux)\r\nContent-Length: 2\r\n\r\n{}");
    await client.waitFor("204 No Content");
    client.socket.write("GET /v1.41/info HTTP/1.1\r\n\r\n");
    await client.waitFor("engine /v1.41/info");
    client.socket.write("POST /containers/c2/start HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    await until(() => client.text().split("204 No Content").length === 3, "the second in-process answer");
    expect(seen).toEqual([
      { method: "POST", url: "/v1.41/containers/c%2D1/start?detachKeys=x", params: { id: "c-1" }, agent: "Docker-Client/28.2.2 (linux)", body: "{}", local: true },
      { method: "POST", url: "/containers/c2/start", params: { id: "c2" }, agent: undefined, body: "", local: true },
    ]);
    expect(t.engine.connections.map((c) => c.received().toString())).toEqual(["GET /v1.41/info HTTP/1.1\r\n\r\n"]);
    expect(client.ended).toBe(false);
    expect(client.text()).toMatch(/^HTTP\/1\.1 204 No Content\r\nApi-Version: 1\.41\r\nDate: .*\r\nConnection: keep-alive\r\n\r\nHTTP\/1\.1 200 OK/);
  });

  it("streams a handler's response to the client as the handler writes it", async () => {
    let release: (() => void) | undefined;
    await relayWith("GET", "/images/{name*}/json", (_req, res, params) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.write(`{"name":"${params.name!}",`);
      release = () => res.end('"done":true}');
    });
    const client = await rawClient(t.relay!.path);
    client.socket.write("GET /v1.41/images/docker.io/library/bb:latest/json HTTP/1.1\r\n\r\n");
    await client.waitFor('{"name":"docker.io/library/bb:latest",');
    expect(client.text()).not.toContain("done");
    release!();
    await client.waitFor('"done":true}\r\n0\r\n\r\n');
  });

  it("delivers a handler's answer written in pieces of its head once, and keeps the connection", async () => {
    t.engine = await fakeEngine(t.enginePath(), simpleAnswers(() => ok("engine")));
    await relayWith("GET", "/raw", async (req) => {
      for (const piece of ["HTTP/1.1 200 OK\r\nContent-", "Length: 2\r\n", "\r\n", "ok"]) {
        req.socket.write(piece);
        await new Promise((r) => setTimeout(r, 10));
      }
    });
    const client = await rawClient(t.relay!.path);
    client.socket.write("GET /raw HTTP/1.1\r\n\r\n");
    await client.waitFor("\r\n\r\nok");
    expect(client.text()).toBe("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    client.socket.write("GET /next HTTP/1.1\r\n\r\n");
    await client.waitFor("engine");
  });

  it("gives the handler a chunked request body decoded", async () => {
    let body = "";
    await relayWith("POST", "/build", async (req, res) => {
      body = (await readBody(req)).toString();
      res.end("ok");
    });
    const client = await rawClient(t.relay!.path);
    client.socket.write("POST /build HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
    await client.waitFor("\r\n\r\nok");
    expect(body).toBe("abcde");
  });

  it("answers a handler that throws with a Docker-style 500 JSON error, reports it, and keeps the connection", async () => {
    t.engine = await fakeEngine(t.enginePath(), simpleAnswers(() => ok("engine")));
    await relayWith("POST", "/containers/create", () => {
      throw new Error("plugin said no");
    });
    const client = await rawClient(t.relay!.path);
    client.socket.write("POST /v1.41/containers/create HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}");
    await client.waitFor("}\n");
    expect(client.text()).toMatch(/^HTTP\/1\.1 500 Internal Server Error\r\nContent-Type: application\/json\r\nContent-Length: 29\r\n/);
    expect(jsonBody(client.text())).toEqual({ message: "plugin said no" });
    expect(t.reported).toEqual([expect.any(RouteHandlerError)]);
    expect(t.reported[0]!.message).toBe("the handler of POST /containers/create failed: plugin said no");
    client.socket.write("GET /_ping HTTP/1.1\r\n\r\n");
    await client.waitFor("\r\n\r\nengine");
  });

  it("answers a rejected error that carries status or statusCode with that status", async () => {
    const errors: Record<string, unknown> = {
      "/a": Object.assign(new Error("conflict"), { status: 409 }),
      "/b": Object.assign(new Error("no such container"), { statusCode: 404 }),
      "/c": Object.assign(new Error("odd"), { status: 200 }),
      "/d": "a string",
    };
    t.relay = await startRelay(t.dir, t.enginePath(), {
      routes: compileRoutes(Object.entries(errors).map(([path, error]) => ({ method: "GET", path, handler: () => Promise.reject(error) }))),
    });
    const client = await rawClient(t.relay.path);
    const statuses: string[] = [];
    for (const path of Object.keys(errors)) {
      const before = client.text().length;
      client.socket.write(`GET ${path} HTTP/1.1\r\n\r\n`);
      await until(() => client.text().slice(before).endsWith("}\n"), `the answer to ${path}`);
      const answer = client.text().slice(before);
      statuses.push(`${answer.split(" ")[1]!} ${JSON.stringify(jsonBody(answer))}`);
    }
    expect(statuses).toEqual(['409 {"message":"conflict"}', '404 {"message":"no such container"}', '500 {"message":"odd"}', '500 {"message":"a string"}']);
  });

  it("answers 500 with the handler's message when it fails between writeHead and its first write", async () => {
    await relayWith("GET", "/x", async (_req, res) => {
      res.writeHead(200, { "Content-Type": "text/plain" });
      await new Promise((r) => setTimeout(r, 5));
      throw new Error("failed after writeHead");
    });
    const client = await rawClient(t.relay!.path);
    client.socket.write("GET /x HTTP/1.1\r\n\r\n");
    await client.waitEnd();
    expect(client.text()).toMatch(/^HTTP\/1\.1 500 Internal Server Error\r\n/);
    expect(jsonBody(client.text())).toEqual({ message: "the route handler closed its response before it was complete: failed after writeHead" });
  });

  it("cuts the client connection off when a handler fails after its answer started", async () => {
    await relayWith("GET", "/x", (_req, res) => {
      res.writeHead(200, { "Content-Length": "10" });
      res.write("part");
      return Promise.reject(new Error("late failure"));
    });
    const client = await rawClient(t.relay!.path);
    client.socket.write("GET /x HTTP/1.1\r\n\r\n");
    await client.waitEnd();
    await until(() => t.relay!.relay.connectionCount === 0, "the relay to drop the connection", 1_000);
    expect(client.text()).toMatch(/\r\n\r\npart$/);
  });

  it("lets the handler see the client going away", async () => {
    let closed = false;
    let entered = false;
    await relayWith("POST", "/containers/{id}/wait", (_req, res: ServerResponse) => {
      entered = true;
      res.on("close", () => (closed = true));
    });
    const client = await rawClient(t.relay!.path);
    client.socket.write("POST /containers/x/wait HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    await until(() => entered, "the handler to run");
    client.socket.destroy();
    await until(() => closed, "the handler's response to close");
  });

  it("serves a pipelined passthrough request after an in-process one, in order", async () => {
    t.engine = await fakeEngine(t.enginePath(), simpleAnswers(() => ok("second")));
    await relayWith("GET", "/first", async (_req, res) => {
      await new Promise((r) => setTimeout(r, 30));
      res.end("first");
    });
    const client = await rawClient(t.relay!.path);
    client.socket.write("GET /first HTTP/1.1\r\n\r\nGET /second HTTP/1.1\r\n\r\n");
    await client.waitFor("\r\n\r\nsecond");
    expect(client.text().indexOf("first")).toBeLessThan(client.text().indexOf("second"));
  });
});

describe("UpstreamClient", () => {
  it("forwards a request with a replaced body and its Content-Length, and streams back the engine's status, raw header names and body", async () => {
    let conn: EngineConnection | undefined;
    let release: (() => void) | undefined;
    t.engine = await fakeEngine(t.enginePath(), (c) => {
      conn = c;
      c.socket.on("data", () => {
        if (!c.received().toString().endsWith('{"Image":"bb","Env":["HOOKED=1"]}')) return;
        c.socket.write('HTTP/1.1 201 Created\r\nApi-Version: 1.41\r\nX-Odd-CASE: v\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n{"Id":"a"\r\n');
        release = () => c.socket.write("1\r\n}\r\n0\r\n\r\n");
      });
    });
    upstream = new UpstreamClient({ kind: "unix", path: t.enginePath() });
    await relayWith("POST", "/containers/create", async (req, res) => {
      const config = JSON.parse((await readBody(req)).toString()) as { Image: string; Env?: string[] };
      config.Env = ["HOOKED=1"];
      await upstream!.forward(req, res, { body: JSON.stringify(config), headers: { "X-Hooked": "yes" } });
    });
    const client = await rawClient(t.relay!.path);
    client.socket.write('POST /v1.41/containers/create?name=c1 HTTP/1.1\r\nHost: api.moby.localhost\r\nContent-Type: application/json\r\nContent-Length: 14\r\nConnection: keep-alive\r\n\r\n{"Image":"bb"}');
    await client.waitFor('{"Id":"a"');
    expect(client.text()).not.toContain("}\r\n0\r\n");
    release!();
    await client.waitFor("0\r\n\r\n");
    expect(client.text()).toMatch(/^HTTP\/1\.1 201 Created\r\nApi-Version: 1\.41\r\nX-Odd-CASE: v\r\nDate: [^\r]+\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n/);
    const sent = conn!.received().toString();
    expect(sent).toMatch(/^POST \/v1\.41\/containers\/create\?name=c1 HTTP\/1\.1\r\n/);
    expect(sent).toContain("\r\nHost: api.moby.localhost\r\n");
    expect(sent).toContain("\r\nContent-Type: application/json\r\n");
    expect(sent).toContain("\r\nX-Hooked: yes\r\n");
    expect(sent).toContain(`\r\nContent-Length: ${'{"Image":"bb","Env":["HOOKED=1"]}'.length}\r\n`);
    expect(sent).not.toContain("Content-Length: 14");
    expect(sent.endsWith('\r\n\r\n{"Image":"bb","Env":["HOOKED=1"]}')).toBe(true);
  });

  it("forwards the request's own body when it is not replaced, chunked as it came", async () => {
    let conn: EngineConnection | undefined;
    t.engine = await fakeEngine(t.enginePath(), (c) => {
      conn = c;
      c.socket.on("data", () => {
        if (c.received().toString().endsWith("0\r\n\r\n")) c.socket.write(ok("loaded"));
      });
    });
    upstream = new UpstreamClient({ kind: "unix", path: t.enginePath() });
    await relayWith("POST", "/images/load", (req, res) => upstream!.forward(req, res));
    const client = await rawClient(t.relay!.path);
    client.socket.write("POST /v1.41/images/load?quiet=1 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    await client.waitFor("loaded");
    const sent = conn!.received().toString();
    expect(sent).toContain("Transfer-Encoding: chunked\r\n");
    expect(sent.replace(/\r\n[0-9a-f]+\r\n/g, "|")).toContain("hello");
    expect(sent).toMatch(/hello[\s\S]*world/);
  });

  it("refuses to forward a body the handler already read instead of sending a short one, with a 500 saying so", async () => {
    t.engine = await fakeEngine(t.enginePath(), simpleAnswers(() => ok("never")));
    upstream = new UpstreamClient({ kind: "unix", path: t.enginePath() });
    await relayWith("POST", "/containers/create", async (req, res) => {
      await readBody(req);
      await upstream!.forward(req, res);
    });
    const client = await rawClient(t.relay!.path);
    client.socket.write("POST /containers/create HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}");
    await client.waitFor("}\n");
    expect(client.text()).toMatch(/^HTTP\/1\.1 500 /);
    expect(jsonBody(client.text())).toEqual({ message: "the handler read the body of POST /containers/create; pass the body to forward() as options.body" });
    expect(t.engine.connections).toHaveLength(0);
  });

  it("aborts the engine request when the client goes away in the middle of a forwarded stream", async () => {
    const pull = endlessStream("9\r\nprogress\n\r\n");
    t.engine = await fakeEngine(t.enginePath(), pull.onConnection);
    upstream = new UpstreamClient({ kind: "unix", path: t.enginePath() });
    let settled = false;
    await relayWith("POST", "/images/create", (req, res) => upstream!.forward(req, res).finally(() => (settled = true)));
    const client = await rawClient(t.relay!.path);
    client.socket.write("POST /v1.41/images/create?fromImage=bb HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    await client.waitFor("progress\n");
    client.socket.destroy();
    await engineConnectionDestroyed(pull.conn!);
    await until(() => settled, "forward to settle");
  });

  it("makes forward fail with UpstreamUnavailableError naming the engine, which the client gets as a 502", async () => {
    upstream = new UpstreamClient({ kind: "unix", path: t.enginePath() });
    let failure: unknown;
    await relayWith("POST", "/containers/create", async (req, res) => {
      try {
        await upstream!.forward(req, res);
      } catch (error) {
        failure = error;
        throw error;
      }
    });
    const client = await rawClient(t.relay!.path);
    client.socket.write("POST /containers/create HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}");
    await client.waitFor("}\n");
    expect(failure).toBeInstanceOf(UpstreamUnavailableError);
    expect(client.text()).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
    expect(jsonBody(client.text())).toEqual({ message: `cannot reach the engine at unix://${t.enginePath()}: connect ENOENT ${t.enginePath()}` });
  });

  it("reads a whole JSON answer with request(), sends JSON bodies with their length, and reuses its connection", async () => {
    t.engine = await fakeEngine(
      t.enginePath(),
      simpleAnswers((head, body) => {
        const text = JSON.stringify({ line: head.split("\r\n")[0], body: body.toString(), type: /content-type: ([^\r]*)/i.exec(head)?.[1] ?? null });
        return `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${text.length}\r\n\r\n${text}`;
      }),
    );
    upstream = new UpstreamClient({ kind: "unix", path: t.enginePath() });
    const info = await upstream.request("GET", "/v1.41/containers/abc/json");
    expect(info.status).toBe(200);
    expect(info.json()).toEqual({ line: "GET /v1.41/containers/abc/json HTTP/1.1", body: "", type: null });
    const update = await upstream.request("POST", "/v1.41/containers/abc/update", { body: { Memory: 1 } });
    expect(update.json()).toEqual({ line: "POST /v1.41/containers/abc/update HTTP/1.1", body: '{"Memory":1}', type: "application/json" });
    await upstream.request("GET", "/info");
    expect(t.engine.connections).toHaveLength(1);
  });

  it("talks to an engine on TCP with TLS", async () => {
    const { createServer } = await import("node:https");
    const { testCert, testKey } = await import("./fixtures/tlsFixture.js");
    const server = createServer({ cert: testCert, key: testKey }, (req, res) => res.end(JSON.stringify({ url: req.url })));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const port = (server.address() as { port: number }).port;
      upstream = new UpstreamClient({ kind: "tcp", host: "127.0.0.1", port, tls: { ca: testCert } });
      expect((await upstream.request("GET", "/v1.41/info")).json()).toEqual({ url: "/v1.41/info" });
    } finally {
      upstream?.close();
      server.closeAllConnections();
      server.close();
    }
  });

  it("refuses an answer larger than maxResponseBytes", async () => {
    t.engine = await fakeEngine(t.enginePath(), simpleAnswers(() => ok("x".repeat(1000))));
    upstream = new UpstreamClient({ kind: "unix", path: t.enginePath() });
    await expect(upstream.request("GET", "/big", { maxResponseBytes: 100 })).rejects.toBeInstanceOf(UpstreamResponseTooLargeError);
  });

  it("rejects request() with UpstreamUnavailableError naming the engine when it is down", async () => {
    upstream = new UpstreamClient({ kind: "unix", path: t.enginePath() });
    await expect(upstream.request("GET", "/info")).rejects.toThrow(`cannot reach the engine at unix://${t.enginePath()}: connect ENOENT`);
  });
});
