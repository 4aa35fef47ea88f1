/**
 * The relay passing requests to a fake engine on a UNIX socket: exact bytes both ways, streaming, keep-alive and
 * reconnection, pipelining, interim responses, and a client's half-close.
 */
import { describe, expect, it } from "vitest";
import { fakeEngine, heldAnswer, ok, rawClient, simpleAnswers, startRelay, until, useRelayTest, type FakeEngine } from "./harness.js";

const t = useRelayTest();
const b = (text: string): Buffer => Buffer.from(text, "latin1");

describe("passthrough", () => {
  it("delivers request and response heads and bodies byte for byte, odd spellings, trailers and every byte value included", async () => {
    const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const request = Buffer.concat([
      b('POST /v1.41/containers/create?name=a%20b HTTP/1.1\r\nHOST: api.moby.localhost\r\nx-odd-Case:   spaced  value \r\nX-Latin: caf\xe9\r\nTransfer-Encoding: chunked\r\n\r\n4;ext="q"\r\n{"a"\r\n100\r\n'),
      allBytes,
      b("\r\n0\r\nX-Trailer: t\r\n\r\n"),
      b(`PUT /v1.41/containers/x/archive?path=%2Ftmp HTTP/1.1\r\nHost:\r\nContent-Length: 256\r\n\r\n`),
      allBytes,
    ]);
    const responses = Buffer.concat([
      b("HTTP/1.1 201 Very Created\r\nServer: Docker/20.10.24 (linux)\r\nX-Dup: 1\r\nx-dup: 2\r\nTransfer-Encoding: chunked\r\n\r\n5;e\r\nhello\r\n100\r\n"),
      allBytes,
      b("\r\n0\r\nX-T: 1\r\n\r\n"),
      b("HTTP/1.1 200 OK\r\nContent-Length: 256\r\n\r\n"),
      allBytes,
    ]);
    let answered = 0;
    t.engine = await fakeEngine(t.enginePath(), (conn) => {
      conn.socket.on("data", () => {
        const got = conn.received().length;
        // answer each request once all of its bytes are in
        const firstEnd = request.indexOf("0\r\nX-Trailer: t\r\n\r\n") + "0\r\nX-Trailer: t\r\n\r\n".length;
        if (answered === 0 && got >= firstEnd) {
          answered = 1;
          conn.socket.write(responses.subarray(0, responses.indexOf("HTTP/1.1 200 OK")));
        }
        if (answered === 1 && got >= request.length) {
          answered = 2;
          conn.socket.write(responses.subarray(responses.indexOf("HTTP/1.1 200 OK")));
        }
      });
    });
    t.relay = await startRelay(t.dir, t.enginePath());
    const client = await rawClient(t.relay.path);
    client.socket.write(request);
    await until(() => client.received().length >= responses.length, "both responses");
    expect(t.engine.connections).toHaveLength(1);
    expect(t.engine.connections[0]!.received().equals(request)).toBe(true);
    expect(client.received().equals(responses)).toBe(true);
  });

  it("delivers a response whose head and body arrive a few bytes at a time unchanged, with the head sent once", async () => {
    const response = 'HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n[{},]\r\n0\r\n\r\n';
    t.engine = await fakeEngine(
      t.enginePath(),
      simpleAnswers((_h, _b, conn) => {
        void (async () => {
          for (let i = 0; i < response.length; i += 3) {
            conn.socket.write(response.slice(i, i + 3));
            await new Promise((r) => setTimeout(r, 2));
          }
        })();
        return undefined;
      }),
    );
    t.relay = await startRelay(t.dir, t.enginePath());
    const client = await rawClient(t.relay.path);
    client.socket.write("GET /v1.41/containers/json HTTP/1.1\r\n\r\n");
    await client.waitFor("0\r\n\r\n");
    expect(client.text()).toBe(response);
  });

  it("streams each chunk of a response to the client before the response ends (logs -f, events, stats)", async () => {
    let release: (() => void) | undefined;
    t.engine = await fakeEngine(
      t.enginePath(),
      simpleAnswers((_head, _body, conn) => {
        conn.socket.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
        conn.socket.write('11\r\n{"status":"one"}\n\r\n');
        release = () => conn.socket.write('11\r\n{"status":"two"}\n\r\n0\r\n\r\n');
        return undefined;
      }),
    );
    t.relay = await startRelay(t.dir, t.enginePath());
    const client = await rawClient(t.relay.path);
    client.socket.write("GET /v1.41/events HTTP/1.1\r\nHost: x\r\n\r\n");
    await client.waitFor('{"status":"one"}');
    expect(client.text()).not.toContain('"two"');
    release!();
    await client.waitFor("0\r\n\r\n");
    expect(client.text()).toContain('{"status":"two"}');
  });

  it("keeps one engine connection for the keep-alive requests of one client connection", async () => {
    t.engine = await fakeEngine(t.enginePath(), simpleAnswers((head) => ok(head.split(" ")[1]!)));
    t.relay = await startRelay(t.dir, t.enginePath());
    const client = await rawClient(t.relay.path);
    for (const path of ["/_ping", "/v1.41/info", "/v1.41/containers/json"]) {
      client.socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
      await client.waitFor(`\r\n\r\n${path}`);
    }
    expect(t.engine.connections).toHaveLength(1);
  });

  it("opens a new engine connection for the next request when the engine closed the idle one", async () => {
    t.engine = await fakeEngine(
      t.enginePath(),
      simpleAnswers((head, _body, conn) => {
        conn.socket.end(ok(head.split(" ")[1]!)); // an engine that closes idle connections
        return undefined;
      }),
    );
    t.relay = await startRelay(t.dir, t.enginePath());
    const client = await rawClient(t.relay.path);
    client.socket.write("GET /first HTTP/1.1\r\n\r\n");
    await client.waitFor("/first");
    await until(() => t.engine!.open() === 0, "the engine's side to close");
    client.socket.write("GET /second HTTP/1.1\r\n\r\n");
    await client.waitFor("/second");
    expect(t.engine.connections).toHaveLength(2);
    expect(client.ended).toBe(false);
  });

  /** An engine whose first connection drops its second request unanswered (the idle-close race). */
  const racingEngine = (): Promise<FakeEngine> =>
    fakeEngine(t.enginePath(), (conn) => {
      const index = t.engine!.connections.indexOf(conn);
      let requests = 0;
      simpleAnswers((head) => {
        requests += 1;
        if (index === 0 && requests === 2) {
          conn.socket.destroy();
          return undefined;
        }
        return ok(`${head.split(" ")[0]} on ${index}`);
      })(conn);
    });

  it("sends a GET again on a new engine connection when a reused one closes before answering", async () => {
    t.engine = await racingEngine();
    t.relay = await startRelay(t.dir, t.enginePath());
    const client = await rawClient(t.relay.path);
    client.socket.write("GET /a HTTP/1.1\r\n\r\n");
    await client.waitFor("GET on 0");
    client.socket.write("GET /b HTTP/1.1\r\n\r\n");
    await client.waitFor("GET on 1");
    expect(t.engine.connections).toHaveLength(2);
    expect(client.text()).not.toContain("502");
  });

  it("answers 502 instead of sending a POST again when a reused engine connection closes before answering", async () => {
    t.engine = await racingEngine();
    t.relay = await startRelay(t.dir, t.enginePath());
    const client = await rawClient(t.relay.path);
    client.socket.write("GET /a HTTP/1.1\r\n\r\n");
    await client.waitFor("GET on 0");
    client.socket.write("POST /containers/create HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}");
    await client.waitFor("closed the connection before answering");
    expect(client.text()).toContain("HTTP/1.1 502 Bad Gateway");
    expect(t.engine.connections).toHaveLength(1);
  });

  it("holds a pipelined request back until the response to the one before it is complete", async () => {
    const first = heldAnswer("GET /a", ok("A"), ok("B"));
    t.engine = await fakeEngine(t.enginePath(), first.onConnection);
    t.relay = await startRelay(t.dir, t.enginePath());
    const client = await rawClient(t.relay.path);
    client.socket.write("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
    await until(() => first.arrived, "the first request");
    await new Promise((r) => setTimeout(r, 50));
    expect(t.engine.connections[0]!.received().toString()).toBe("GET /a HTTP/1.1\r\n\r\n");
    first.release();
    await client.waitFor("\r\n\r\nB");
    expect(client.text()).toMatch(/\r\n\r\nA.*\r\n\r\nB$/s);
    expect(t.engine.connections[0]!.received().toString()).toBe("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
  });

  it("leaves pipelined bytes in the client's socket while a response is pending, instead of reading them all", async () => {
    const first = heldAnswer("GET /a", ok("A"), ok("B"));
    t.engine = await fakeEngine(t.enginePath(), first.onConnection);
    t.relay = await startRelay(t.dir, t.enginePath());
    const client = await rawClient(t.relay.path);
    client.socket.write("GET /a HTTP/1.1\r\n\r\n");
    await until(() => first.arrived, "the first request");
    const pipelined = Buffer.alloc(16 * 1024 * 1024, "GET /b HTTP/1.1\r\n\r\n");
    client.socket.write(pipelined);
    await new Promise((r) => setTimeout(r, 200));
    // what the socket buffers hold is far less than 16 MiB: most of it must still wait in the client's own buffer
    expect(client.socket.writableLength).toBeGreaterThan(8 * 1024 * 1024);
    first.release();
    await client.waitFor("\r\n\r\nA");
  });

  it("forwards 100 Continue before the body is sent, then the final response", async () => {
    t.engine = await fakeEngine(t.enginePath(), (conn) => {
      conn.socket.on("data", () => {
        const got = conn.received().toString();
        if (got.endsWith("\r\n\r\n") && !got.includes("hello")) conn.socket.write("HTTP/1.1 100 Continue\r\n\r\n");
        if (got.endsWith("hello")) conn.socket.write(ok("done"));
      });
    });
    t.relay = await startRelay(t.dir, t.enginePath());
    const client = await rawClient(t.relay.path);
    client.socket.write("POST /v1.41/build HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    await client.waitFor("100 Continue\r\n\r\n");
    client.socket.write("hello");
    await client.waitFor("done");
    expect(client.text()).toBe(`HTTP/1.1 100 Continue\r\n\r\n${ok("done")}`);
  });

  it("ends a HEAD response at its head whatever its Content-Length says, and reuses the connection", async () => {
    t.engine = await fakeEngine(
      t.enginePath(),
      simpleAnswers((head) => (head.startsWith("HEAD") ? "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Length: 2\r\n\r\n" : ok("OK"))),
    );
    t.relay = await startRelay(t.dir, t.enginePath());
    const client = await rawClient(t.relay.path);
    client.socket.write("HEAD /_ping HTTP/1.1\r\n\r\n");
    await client.waitFor("Content-Length: 2\r\n\r\n");
    client.socket.write("GET /_ping HTTP/1.1\r\n\r\n");
    await client.waitFor("\r\n\r\nOK");
    expect(t.engine.connections).toHaveLength(1);
  });

  it("keeps passing the body of a request the engine answered early, then serves the next request", async () => {
    t.engine = await fakeEngine(t.enginePath(), (conn) => {
      conn.socket.on("data", () => {
        const got = conn.received().toString();
        if (got === "POST /images/load HTTP/1.1\r\nContent-Length: 6\r\n\r\n") conn.socket.write("HTTP/1.1 400 Bad Request\r\nContent-Length: 2\r\n\r\n{}");
        if (got.endsWith("GET /next HTTP/1.1\r\n\r\n")) conn.socket.write(ok("next"));
      });
    });
    t.relay = await startRelay(t.dir, t.enginePath());
    const client = await rawClient(t.relay.path);
    client.socket.write("POST /images/load HTTP/1.1\r\nContent-Length: 6\r\n\r\n");
    await client.waitFor("400 Bad Request");
    client.socket.write("abcdefGET /next HTTP/1.1\r\n\r\n");
    await client.waitFor("next");
    expect(t.engine.connections[0]!.received().toString()).toContain("\r\n\r\nabcdefGET /next");
  });

  it("passes a client's half-close on to the engine, still delivers the answer, then ends the connection", async () => {
    const wait = heldAnswer("GET /v1.41/containers/x/wait", ok("late"));
    t.engine = await fakeEngine(t.enginePath(), wait.onConnection);
    t.relay = await startRelay(t.dir, t.enginePath());
    const client = await rawClient(t.relay.path);
    client.socket.end("GET /v1.41/containers/x/wait HTTP/1.1\r\n\r\n");
    await until(() => t.engine!.connections[0]?.ended === true, "the engine to see the end of the request side");
    wait.release();
    await client.waitEnd();
    expect(client.text()).toBe(ok("late"));
  });

  it("closes the client connection after a request that says Connection: close, and after an HTTP/1.0 request", async () => {
    t.engine = await fakeEngine(t.enginePath(), simpleAnswers(() => ok("answer")));
    t.relay = await startRelay(t.dir, t.enginePath());
    for (const request of ["GET /x HTTP/1.1\r\nConnection: close\r\n\r\n", "GET /x HTTP/1.0\r\n\r\n"]) {
      const client = await rawClient(t.relay.path);
      client.socket.write(request);
      await client.waitEnd();
      expect(client.text()).toBe(ok("answer"));
    }
  });

  it("closes at once when the engine answers early with Connection: close, without waiting for the rest of the body", async () => {
    t.engine = await fakeEngine(t.enginePath(), (conn) => {
      conn.socket.once("data", () => conn.socket.end("HTTP/1.1 413 Request Entity Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"));
    });
    t.relay = await startRelay(t.dir, t.enginePath());
    const client = await rawClient(t.relay.path);
    client.socket.write("POST /images/load HTTP/1.1\r\nContent-Length: 100000000\r\n\r\nfirst-part");
    await client.waitEnd(1_000);
    expect(client.text()).toBe("HTTP/1.1 413 Request Entity Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  });

  it("drops an engine connection that sends bytes answering no request, reports it, and dials a new one for the next request", async () => {
    const reported: Error[] = [];
    t.engine = await fakeEngine(
      t.enginePath(),
      simpleAnswers((_h, _b, conn) => {
        setTimeout(() => conn.socket.write("HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n"), 20);
        return ok("fine");
      }),
    );
    t.relay = await startRelay(t.dir, t.enginePath(), { onError: (e) => reported.push(e) });
    const client = await rawClient(t.relay.path);
    client.socket.write("GET /a HTTP/1.1\r\n\r\n");
    await client.waitFor("fine");
    await until(() => reported.length === 1, "the report");
    expect(reported[0]!.message).toBe(`the engine at unix://${t.enginePath()} sent 51 bytes that answer no request`);
    client.socket.write("GET /b HTTP/1.1\r\n\r\n");
    await until(() => client.text().split("fine").length === 3, "the second answer");
    expect(client.text()).not.toContain("408");
    expect(t.engine.connections).toHaveLength(2);
  });

  it("closes the client connection after a response that says Connection: close", async () => {
    t.engine = await fakeEngine(t.enginePath(), simpleAnswers(() => ok("bye", "Connection: close\r\n")));
    t.relay = await startRelay(t.dir, t.enginePath());
    const client = await rawClient(t.relay.path);
    client.socket.write("GET /x HTTP/1.1\r\n\r\n");
    await client.waitEnd();
    expect(client.text()).toBe(ok("bye", "Connection: close\r\n"));
  });

  it("passes requests to an engine on TCP with TLS, verified against the given CA", async () => {
    const { createServer } = await import("node:https");
    const { testCert, testKey } = await import("./fixtures/tlsFixture.js");
    const server = createServer({ cert: testCert, key: testKey }, (req, res) => res.end(`tls ${req.url}`));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    try {
      t.relay = await startRelay(t.dir, "", { upstream: { kind: "tcp", host: "127.0.0.1", port, tls: { ca: testCert } } });
      const client = await rawClient(t.relay.path);
      client.socket.write("GET /v1.41/version HTTP/1.1\r\nHost: x\r\n\r\n");
      await client.waitFor("tls /v1.41/version");
      // without the CA the engine's certificate is refused, and the client hears why
      await t.relay.close({ graceMs: 100 });
      t.relay = await startRelay(t.dir, "", { upstream: { kind: "tcp", host: "127.0.0.1", port, tls: {} } });
      const untrusting = await rawClient(t.relay.path);
      untrusting.socket.write("GET /v1.41/version HTTP/1.1\r\n\r\n");
      await untrusting.waitFor("}\n");
      expect(untrusting.text()).toContain(`502 Bad Gateway`);
      expect(untrusting.text()).toContain(`cannot reach the engine at tcp://127.0.0.1:${port}: self-signed certificate`);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("passes requests to an engine on TCP too", async () => {
    const { createServer } = await import("node:http");
    const server = createServer((req, res) => res.end(`tcp ${req.url}`));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    try {
      t.relay = await startRelay(t.dir, "", { upstream: { kind: "tcp", host: "127.0.0.1", port } });
      const client = await rawClient(t.relay.path);
      client.socket.write("GET /v1.41/version HTTP/1.1\r\nHost: x\r\n\r\n");
      await client.waitFor("tcp /v1.41/version");
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
