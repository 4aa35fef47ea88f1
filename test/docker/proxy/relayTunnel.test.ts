/**
 * Hijacked connections through the relay: dockerd's 101 UPGRADED (attach, exec start) and its older 200 raw-stream
 * answer, as raw tunnels that pass each side's end of input on (half-close), over UNIX sockets and TLS.
 */
import { once } from "node:events";
import { connect as tlsConnect, type ConnectionOptions } from "node:tls";
import { describe, expect, it } from "vitest";
import { testCert, testKey } from "./fixtures/tlsFixture.js";
import { fakeEngine, rawClient, startRelay, until, useRelayTest, type EngineConnection } from "./harness.js";

const t = useRelayTest();
const upgraded = "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n";
const hijacked200 = "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n";
const attach = "POST /v1.41/containers/c1/attach?stderr=1&stdin=1&stdout=1&stream=1 HTTP/1.1\r\nHost: api.moby.localhost\r\nContent-Length: 0\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n";

/**
 * An engine that answers the first request head with `answer`, echoes upper-cased what comes after it, and when the
 * relay ends its side writes "after-eof" and ends its own (what dockerd does when stdin closes and the container exits).
 */
function echoingEngine(answer: string): (conn: EngineConnection) => void {
  return (conn) => {
    let answered = false;
    let headEnd = -1;
    conn.socket.on("data", () => {
      const got = conn.received();
      if (!answered) {
        headEnd = got.indexOf("\r\n\r\n");
        if (headEnd < 0) return;
        answered = true;
        conn.socket.write(`${answer}hello-from-engine\n`);
      }
      const stream = got.subarray(headEnd + 4).toString();
      if (stream) conn.socket.write(`echo:${stream.toUpperCase()}`);
    });
    conn.socket.on("end", () => {
      conn.socket.end("after-eof\n");
    });
  };
}

describe("tunnels", () => {
  for (const [name, answer] of [
    ["a 101 UPGRADED answer", upgraded],
    ["the older 200 raw-stream answer (no length, no chunking)", hijacked200],
  ] as const) {
    it(`turns ${name} into a tunnel that passes bytes both ways and the client's half-close`, async () => {
      t.engine = await fakeEngine(t.enginePath(), echoingEngine(answer));
      t.relay = await startRelay(t.dir, t.enginePath());
      const client = await rawClient(t.relay.path);
      client.socket.write(attach);
      await client.waitFor("hello-from-engine\n");
      client.socket.write("stdin-bytes");
      await client.waitFor("echo:STDIN-BYTES");
      client.socket.end(); // docker run -i with stdin closed, docker exec without -i
      await client.waitEnd();
      expect(client.text()).toBe(`${answer}hello-from-engine\necho:STDIN-BYTESafter-eof\n`);
      expect(t.engine.connections[0]!.received().toString()).toBe(`${attach}stdin-bytes`);
      expect(t.engine.connections[0]!.ended).toBe(true);
      await until(() => t.relay!.relay.connectionCount === 0 && t.engine!.open() === 0, "both connections to close");
    });
  }

  it("keeps delivering the engine's output after the client half-closed at once (docker exec without -i)", async () => {
    let conn: EngineConnection | undefined;
    t.engine = await fakeEngine(t.enginePath(), (c) => {
      conn = c;
      c.socket.on("data", () => {
        if (c.received().includes("\r\n\r\n") && c.received().length === Buffer.byteLength(attach)) c.socket.write(upgraded);
      });
    });
    t.relay = await startRelay(t.dir, t.enginePath());
    const client = await rawClient(t.relay.path);
    client.socket.write(attach);
    await client.waitFor(upgraded);
    client.socket.end();
    await until(() => conn?.ended === true, "the engine to see the client's end");
    for (const line of ["one\n", "two\n", "three\n"]) {
      conn!.socket.write(line);
      await client.waitFor(line);
    }
    conn!.socket.end();
    await client.waitEnd();
    expect(client.text()).toBe(`${upgraded}one\ntwo\nthree\n`);
  });

  it("passes the engine's end to the client while the client's input still flows, and closes when both ended", async () => {
    let conn: EngineConnection | undefined;
    t.engine = await fakeEngine(t.enginePath(), (c) => {
      conn = c;
      c.socket.once("data", () => c.socket.write(upgraded));
    });
    t.relay = await startRelay(t.dir, t.enginePath());
    const client = await rawClient(t.relay.path);
    client.socket.write(attach);
    await client.waitFor(upgraded);
    conn!.socket.end("exited\n");
    await client.waitEnd();
    client.socket.write("late-stdin");
    await until(() => conn!.received().toString().endsWith("late-stdin"), "the late input to reach the engine");
    client.socket.end();
    await until(() => t.relay!.relay.connectionCount === 0 && t.engine!.open() === 0, "both connections to close");
  });

  it("passes a 101 head written in pieces (as dockerd writes it) once, then the stream", async () => {
    t.engine = await fakeEngine(t.enginePath(), (c) => {
      c.socket.once("data", () => {
        void (async () => {
          for (const piece of ["HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n", "Api-Version: 1.41\r\nServer: Docker/20.10.24 (linux)\r\n", "\r\n", "out\n"]) {
            c.socket.write(piece);
            await new Promise((r) => setTimeout(r, 10));
          }
        })();
      });
    });
    t.relay = await startRelay(t.dir, t.enginePath());
    const client = await rawClient(t.relay.path);
    client.socket.write(attach);
    await client.waitFor("out\n");
    expect(client.text()).toBe("HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nApi-Version: 1.41\r\nServer: Docker/20.10.24 (linux)\r\n\r\nout\n");
  });

  it("sends bytes the client wrote before the 101 arrived to the engine after the head, unchanged", async () => {
    let conn: EngineConnection | undefined;
    t.engine = await fakeEngine(t.enginePath(), (c) => {
      conn = c;
    });
    t.relay = await startRelay(t.dir, t.enginePath());
    const client = await rawClient(t.relay.path);
    client.socket.write(`${attach}early-input`);
    await until(() => conn?.received().toString() === attach, "the head at the engine");
    await new Promise((r) => setTimeout(r, 30));
    expect(conn!.received().toString()).toBe(attach); // held back until the answer says what follows
    conn!.socket.write(`${upgraded}out`);
    await until(() => conn!.received().toString() === `${attach}early-input`, "the early input at the engine");
    await client.waitFor(`${upgraded}out`);
  });

  it("destroys the client connection when the engine resets the tunnel (TCP engine)", async () => {
    let conn: EngineConnection | undefined;
    t.engine = await fakeEngine("tcp", (c) => {
      conn = c;
      c.socket.once("data", () => c.socket.write(upgraded));
    });
    t.relay = await startRelay(t.dir, "", { upstream: { kind: "tcp", host: "127.0.0.1", port: t.engine.port } });
    const client = await rawClient(t.relay.path);
    client.socket.write(attach);
    await client.waitFor(upgraded);
    conn!.socket.resetAndDestroy();
    // on a UNIX socket the client sees the relay's destroy as an end; a write then fails, as nothing reads any more
    await client.waitEnd(1_000);
    await until(() => t.relay!.relay.connectionCount === 0, "the relay to drop the connection", 1_000);
    client.socket.write("x");
    await until(() => client.closed, "the client's write to fail", 1_000);
    expect(client.text()).toBe(upgraded);
  });

  it("serves TLS clients, tunnel and half-close included", async () => {
    t.engine = await fakeEngine(t.enginePath(), echoingEngine(upgraded));
    t.relay = await startRelay(t.dir, t.enginePath(), { tls: { cert: testCert, key: testKey } });
    // tls.connect passes allowHalfOpen on to its socket; @types/node does not list it
    const options: ConnectionOptions & { allowHalfOpen: boolean } = { path: t.relay.path, ca: testCert, servername: "localhost", allowHalfOpen: true };
    const socket = tlsConnect(options);
    await once(socket, "secureConnect");
    let text = "";
    let ended = false;
    socket.on("data", (d: Buffer) => (text += d.toString("latin1")));
    socket.on("end", () => (ended = true));
    socket.write(attach);
    await until(() => text.includes("hello-from-engine\n"), "the tunnel over TLS");
    socket.write("tls-input");
    await until(() => text.includes("echo:TLS-INPUT"), "the echo over TLS");
    socket.end();
    await until(() => ended, "the end over TLS");
    expect(text).toBe(`${upgraded}hello-from-engine\necho:TLS-INPUTafter-eof\n`);
    socket.destroy();
  });
});
