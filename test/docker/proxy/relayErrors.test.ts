/**
 * The relay's failures and limits against a fake engine: malformed requests, oversized and stalled heads, an engine
 * that is down, restarts or misbehaves, clients that go away, and shutdown.
 */
import { rmSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { endlessStream, engineConnectionDestroyed, fakeEngine, heldAnswer, jsonBody, ok, rawClient, simpleAnswers, startRelay, until, useRelayTest, type EngineConnection } from "./harness.js";

const t = useRelayTest();
const echoPath = simpleAnswers((head) => ok(head.split(" ")[1]!));

describe("malformed and oversized requests", () => {
  it("answers a malformed request with a 400 JSON message, closes that connection, and keeps serving others", async () => {
    t.engine = await fakeEngine(t.enginePath(), echoPath);
    t.relay = await startRelay(t.dir, t.enginePath());
    const bad = await rawClient(t.relay.path);
    bad.socket.write("GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n");
    await bad.waitEnd();
    expect(bad.text()).toMatch(/^HTTP\/1\.1 400 Bad Request\r\nContent-Type: application\/json\r\nContent-Length: \d+\r\nConnection: close\r\n\r\n/);
    expect(jsonBody(bad.text())).toEqual({ message: "invalid HTTP request: a field line starts with whitespace (obs-fold is not accepted)" });
    expect(t.engine.connections).toHaveLength(0);
    const good = await rawClient(t.relay.path);
    good.socket.write("GET /still-serving HTTP/1.1\r\n\r\n");
    await good.waitFor("/still-serving");
  });

  it("answers a request smuggling attempt (Content-Length with Transfer-Encoding) with 400 before the engine sees it", async () => {
    t.engine = await fakeEngine(t.enginePath(), echoPath);
    t.relay = await startRelay(t.dir, t.enginePath());
    const client = await rawClient(t.relay.path);
    client.socket.write("POST /a HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n");
    await client.waitEnd();
    expect(client.text()).toContain("400 Bad Request");
    expect(t.engine.connections).toHaveLength(0);
  });

  it("answers a malformed chunked body with 400 when the engine has not answered yet, and drops the engine connection", async () => {
    t.engine = await fakeEngine(t.enginePath(), () => undefined);
    t.relay = await startRelay(t.dir, t.enginePath());
    const client = await rawClient(t.relay.path);
    client.socket.write("POST /images/load HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nnot-hex\r\n");
    await client.waitEnd();
    expect(client.text()).toContain("400 Bad Request");
    expect(jsonBody(client.text())).toEqual({ message: expect.stringContaining("invalid HTTP request body: invalid chunk size line") });
    await engineConnectionDestroyed(t.engine.connections[0]!);
  });

  it("answers a head larger than 64 KiB with 431 and closes", async () => {
    t.engine = await fakeEngine(t.enginePath(), echoPath);
    t.relay = await startRelay(t.dir, t.enginePath());
    const client = await rawClient(t.relay.path);
    client.socket.write(`GET / HTTP/1.1\r\nX-Big: ${"a".repeat(70 * 1024)}\r\n\r\n`);
    await client.waitEnd();
    expect(client.text()).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(jsonBody(client.text())).toEqual({ message: "invalid HTTP request: the message head is larger than 65536 bytes" });
  });

  it("accepts a head just under the limit and passes it on", async () => {
    t.engine = await fakeEngine(t.enginePath(), echoPath);
    t.relay = await startRelay(t.dir, t.enginePath());
    const client = await rawClient(t.relay.path);
    const start = "GET /big HTTP/1.1\r\nX-Big: ";
    client.socket.write(`${start}${"a".repeat(65536 - start.length - 4)}\r\n\r\n`);
    await client.waitFor("\r\n\r\n/big");
  });
});

describe("stalled heads", () => {
  it("answers a head that stalls with 408 after headersTimeoutMs and closes", async () => {
    t.engine = await fakeEngine(t.enginePath(), echoPath);
    t.relay = await startRelay(t.dir, t.enginePath(), { headersTimeoutMs: 200 });
    const client = await rawClient(t.relay.path);
    const started = Date.now();
    client.socket.write("GET /slow HTTP/1.1\r\nHost: x\r\n");
    await client.waitEnd(2_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(client.text()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(jsonBody(client.text())).toEqual({ message: "no complete request head within 200 ms" });
  });

  it("times out a stalled head on a kept-alive connection too, counted from its first byte", async () => {
    t.engine = await fakeEngine(t.enginePath(), echoPath);
    t.relay = await startRelay(t.dir, t.enginePath(), { headersTimeoutMs: 200 });
    const client = await rawClient(t.relay.path);
    client.socket.write("GET /one HTTP/1.1\r\n\r\n");
    await client.waitFor("/one");
    await new Promise((r) => setTimeout(r, 300)); // idle longer than the head limit: no limit while idle
    expect(client.ended).toBe(false);
    const started = Date.now();
    client.socket.write("GET /two HTTP/1.1\r\n");
    await client.waitEnd(2_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(client.text().startsWith(ok("/one"))).toBe(true);
    expect(client.text().slice(ok("/one").length)).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
  });

  it("counts a slow head from its first byte, not from its last (slowloris)", async () => {
    t.engine = await fakeEngine(t.enginePath(), echoPath);
    t.relay = await startRelay(t.dir, t.enginePath(), { headersTimeoutMs: 300 });
    const client = await rawClient(t.relay.path);
    const timer = setInterval(() => client.socket.write("X-Drip: 1\r\n"), 50);
    client.socket.write("GET /drip HTTP/1.1\r\n");
    try {
      await client.waitEnd(2_000);
    } finally {
      clearInterval(timer);
    }
    expect(client.text()).toContain("408 Request Timeout");
  });

  it("times out a connection that sends nothing, and lets a kept-alive one idle without a limit by default", async () => {
    t.engine = await fakeEngine(t.enginePath(), echoPath);
    t.relay = await startRelay(t.dir, t.enginePath(), { headersTimeoutMs: 150 });
    const silent = await rawClient(t.relay.path);
    const kept = await rawClient(t.relay.path);
    kept.socket.write("GET /one HTTP/1.1\r\n\r\n");
    await kept.waitFor("/one");
    await silent.waitEnd(2_000);
    expect(silent.text()).toContain("408 Request Timeout");
    await new Promise((r) => setTimeout(r, 300));
    expect(kept.ended).toBe(false);
    kept.socket.write("GET /two HTTP/1.1\r\n\r\n");
    await kept.waitFor("/two");
  });

  it("closes a kept-alive connection silently after idleTimeoutMs", async () => {
    t.engine = await fakeEngine(t.enginePath(), echoPath);
    t.relay = await startRelay(t.dir, t.enginePath(), { idleTimeoutMs: 150 });
    const client = await rawClient(t.relay.path);
    client.socket.write("GET /one HTTP/1.1\r\n\r\n");
    await client.waitFor("/one");
    await client.waitEnd(2_000);
    expect(client.text()).toBe(ok("/one"));
  });
});

describe("the engine down, restarting or misbehaving", () => {
  it("answers 502 naming the engine's address and the OS error, and serves the same connection once the engine is up", async () => {
    t.relay = await startRelay(t.dir, t.enginePath());
    const client = await rawClient(t.relay.path);
    client.socket.write("GET /v1.41/version HTTP/1.1\r\n\r\n");
    await client.waitFor("}\n");
    expect(client.text()).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
    expect(jsonBody(client.text())).toEqual({ message: `cannot reach the engine at unix://${t.enginePath()}: connect ENOENT ${t.enginePath()}` });
    expect(client.ended).toBe(false);
    t.engine = await fakeEngine(t.enginePath(), echoPath);
    client.socket.write("GET /v1.41/version HTTP/1.1\r\n\r\n");
    await client.waitFor("\r\n\r\n/v1.41/version");
  });

  it("names a TCP engine and its refusal", async () => {
    t.relay = await startRelay(t.dir, "", { upstream: { kind: "tcp", host: "127.0.0.1", port: 1 } });
    const client = await rawClient(t.relay.path);
    client.socket.write("GET /_ping HTTP/1.1\r\n\r\n");
    await client.waitFor("}\n");
    expect(jsonBody(client.text())).toEqual({ message: "cannot reach the engine at tcp://127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1" });
  });

  it("answers 502 and closes when the engine cannot be reached while a request body is still on its way", async () => {
    t.relay = await startRelay(t.dir, t.enginePath());
    const client = await rawClient(t.relay.path);
    client.socket.write("POST /images/load HTTP/1.1\r\nContent-Length: 1000\r\n\r\npartial");
    await client.waitEnd();
    expect(client.text()).toContain("502 Bad Gateway\r\nContent-Type: application/json\r\nContent-Length:");
    expect(client.text()).toContain("Connection: close");
  });

  it("serves on through an engine restart on the same socket path, on the same client connection", async () => {
    t.engine = await fakeEngine(t.enginePath(), echoPath);
    t.relay = await startRelay(t.dir, t.enginePath());
    const client = await rawClient(t.relay.path);
    client.socket.write("GET /before HTTP/1.1\r\n\r\n");
    await client.waitFor("/before");
    await t.engine.close();
    rmSync(t.enginePath(), { force: true });
    client.socket.write("GET /during HTTP/1.1\r\n\r\n");
    await client.waitFor("cannot reach the engine");
    t.engine = await fakeEngine(t.enginePath(), echoPath);
    client.socket.write("GET /after HTTP/1.1\r\n\r\n");
    await client.waitFor("\r\n\r\n/after");
    expect(client.ended).toBe(false);
  });

  it("answers 502 for a malformed engine response and reports it", async () => {
    t.engine = await fakeEngine(t.enginePath(), simpleAnswers(() => "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx"));
    t.relay = await startRelay(t.dir, t.enginePath(), { onError: (e) => t.reported.push(e) });
    const client = await rawClient(t.relay.path);
    client.socket.write("GET /x HTTP/1.1\r\n\r\n");
    await client.waitEnd();
    expect(jsonBody(client.text())).toEqual({ message: `the engine at unix://${t.enginePath()} sent a malformed response: more than one Content-Length field` });
    expect(t.reported.map((e) => e.name)).toEqual(["RelayProtocolError"]);
  });

  it("destroys the client connection when the engine fails in the middle of a response", async () => {
    t.engine = await fakeEngine(
      t.enginePath(),
      simpleAnswers((_h, _b, conn) => {
        conn.socket.end("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly-part");
        return undefined;
      }),
    );
    t.relay = await startRelay(t.dir, t.enginePath());
    const client = await rawClient(t.relay.path);
    client.socket.write("GET /x HTTP/1.1\r\n\r\n");
    await client.waitEnd();
    await until(() => t.relay!.relay.connectionCount === 0, "the relay to drop the connection", 1_000);
    expect(client.text()).toBe("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly-part");
  });
});

describe("clients that go away", () => {
  it("destroys the engine connection when the client disconnects in the middle of a streaming response", async () => {
    const logs = endlessStream("6\r\nchunk\n\r\n");
    t.engine = await fakeEngine(t.enginePath(), logs.onConnection);
    t.relay = await startRelay(t.dir, t.enginePath());
    const client = await rawClient(t.relay.path);
    client.socket.write("GET /v1.41/containers/x/logs?follow=1 HTTP/1.1\r\n\r\n");
    await client.waitFor("chunk\n");
    client.socket.destroy();
    await until(() => logs.conn!.closed, "the engine connection to close", 2_000);
    await until(() => t.relay!.relay.connectionCount === 0, "the relay to drop the client", 2_000);
  });

  it("ends the engine connection when the client disconnects before any response byte (docker events with no events)", async () => {
    let conn: EngineConnection | undefined;
    t.engine = await fakeEngine(
      t.enginePath(),
      simpleAnswers((_h, _b, c) => {
        conn = c;
        return undefined;
      }),
    );
    t.relay = await startRelay(t.dir, t.enginePath());
    const client = await rawClient(t.relay.path);
    client.socket.write("GET /v1.41/events HTTP/1.1\r\n\r\n");
    await until(() => conn !== undefined, "the request at the engine");
    client.socket.destroy();
    await until(() => conn!.ended, "the engine to see the client's end", 2_000);
    conn!.socket.end(); // what dockerd does when its request context is cancelled
    await until(() => t.relay!.relay.connectionCount === 0 && t.engine!.open() === 0, "everything to close", 2_000);
  });
});

describe("shutdown", () => {
  it("stops accepting, lets the request in flight finish, closes idle connections at once, then resolves", async () => {
    const slow = heldAnswer("GET /slow", ok("slow"), ok("fast"));
    t.engine = await fakeEngine(t.enginePath(), slow.onConnection);
    t.relay = await startRelay(t.dir, t.enginePath());
    const busy = await rawClient(t.relay.path);
    const idle = await rawClient(t.relay.path);
    idle.socket.write("GET /fast HTTP/1.1\r\n\r\n");
    await idle.waitFor("fast");
    busy.socket.write("GET /slow HTTP/1.1\r\n\r\n");
    await until(() => slow.arrived, "the slow request at the engine");
    let closed = false;
    const closing = t.relay.close({ graceMs: 5_000 }).then(() => {
      closed = true;
    });
    await idle.waitEnd(1_000);
    idle.socket.end();
    await expect(rawClient(t.relay.path)).rejects.toThrow(/ENOENT|ECONNREFUSED/);
    expect(closed).toBe(false);
    slow.release();
    await busy.waitEnd(1_000);
    expect(busy.text()).toBe(ok("slow"));
    busy.socket.end();
    const started = Date.now();
    await closing;
    expect(Date.now() - started).toBeLessThan(1_000); // closed when the clients closed, not at the grace bound
    expect(t.relay.relay.connectionCount).toBe(0);
  });

  it("destroys a tunnel still open when the grace period ends", async () => {
    t.engine = await fakeEngine(t.enginePath(), (c) => c.socket.once("data", () => c.socket.write("HTTP/1.1 101 UPGRADED\r\nUpgrade: tcp\r\n\r\n")));
    t.relay = await startRelay(t.dir, t.enginePath());
    const client = await rawClient(t.relay.path);
    client.socket.write("POST /exec/x/start HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n");
    await client.waitFor("101 UPGRADED");
    const started = Date.now();
    await t.relay.close({ graceMs: 200 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    await client.waitEnd(1_000);
    await engineConnectionDestroyed(t.engine.connections[0]!, 1_000);
  });
});
