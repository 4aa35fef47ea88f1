/**
 * The relay under load: large bodies stream with bounded memory both ways, 1,000 long-lived streaming responses run
 * at once (the relay in a child process, so that its RSS is measured alone), and 500 connections of every kind leave
 * no descriptor behind (the relay in this process, whose descriptors are counted).
 */
import { fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { compileRoutes } from "../../../src/docker/proxy/routeMatcher.js";
import type { RelayChildPeak, RelayChildRequest } from "./relayChild.js";
import { fakeEngine, ok, openFds, rawClient, simpleAnswers, startRelay, until, useRelayTest } from "./harness.js";

const t = useRelayTest();
const MiB = 1024 * 1024;

/** A relay in a child process in front of `upstreamPath`, measuring its own RSS. */
interface RelayChild {
  /** Its socket. */
  readonly path: string;
  /** Starts a measurement. */
  reset(): Promise<void>;
  /** The RSS growth since reset, in MiB, and the connections open now. */
  peak(): Promise<{ growth: number; connections: number }>;
  /** Stops it. */
  stop(): Promise<void>;
}

let child: RelayChild | undefined;
afterEach(async () => {
  await child?.stop();
  child = undefined;
});

async function relayChild(upstreamPath: string): Promise<RelayChild> {
  const path = join(t.dir, "child.sock");
  const proc = fork(fileURLToPath(new URL("./relayChild.ts", import.meta.url)), [upstreamPath, path], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const exited = new Promise<number | null>((resolve) => proc.once("exit", resolve));
  const next = async (send?: RelayChildRequest): Promise<unknown> => {
    const answer = new Promise((resolve) => proc.once("message", resolve));
    if (send) proc.send(send);
    return Promise.race([answer, exited.then((code) => Promise.reject(new Error(`the relay child exited with ${code}`)))]);
  };
  await next();
  const c: RelayChild = {
    path,
    reset: async () => void (await next("reset")),
    peak: async () => {
      const p = (await next("peak")) as RelayChildPeak;
      return { growth: (p.peak - p.base) / MiB, connections: p.connections };
    },
    stop: async () => {
      if (proc.exitCode === null) proc.send("close");
      await exited;
    },
  };
  child = c;
  return c;
}

/** Writes `pattern` `times` times to `socket`, waiting for "drain" whenever the socket asks to. */
async function writeRepeated(socket: Socket, pattern: Buffer, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    if (!socket.write(pattern)) await once(socket, "drain");
  }
}

/** Checks that `data`, received at stream offset `at`, equals `pattern` repeated; returns the new offset or -1. */
function matchesPattern(pattern: Buffer, at: number, data: Buffer): number {
  let pos = 0;
  let offset = at;
  while (pos < data.length) {
    const into = offset % pattern.length;
    const n = Math.min(pattern.length - into, data.length - pos);
    if (!data.subarray(pos, pos + n).equals(pattern.subarray(into, into + n))) return -1;
    pos += n;
    offset += n;
  }
  return offset;
}

describe("bounded memory", () => {
  it("streams a 200 MB request body to a slower engine unchanged with RSS growth under 50 MB", async () => {
    const pattern = randomBytes(MiB);
    const total = 200 * MiB;
    let received = 0;
    let intact = true;
    t.engine = await fakeEngine(t.enginePath(), (conn) => {
      let headDone = false;
      let sinceRest = 0;
      conn.socket.on("data", (d: Buffer) => {
        // slower than the client: without backpressure the relay would have to hold the difference
        sinceRest += d.length;
        if (sinceRest >= 4 * MiB) {
          sinceRest = 0;
          conn.socket.pause();
          setTimeout(() => conn.socket.resume(), 10);
        }
        let data = d;
        if (!headDone) {
          const end = d.indexOf("\r\n\r\n");
          if (end < 0) return;
          headDone = true;
          data = d.subarray(end + 4);
        }
        const next = matchesPattern(pattern, received, data);
        if (next < 0) intact = false;
        received += data.length;
        if (received >= total) conn.socket.write(ok(`got ${received}`));
      });
    }, { record: false });
    const relayProcess = await relayChild(t.enginePath());
    const client = await rawClient(relayProcess.path);
    await relayProcess.reset();
    client.socket.write(`POST /v1.41/images/load HTTP/1.1\r\nContent-Type: application/x-tar\r\nContent-Length: ${total}\r\n\r\n`);
    await writeRepeated(client.socket, pattern, 200);
    await client.waitFor(`got ${total}`, 60_000);
    const { growth } = await relayProcess.peak();
    expect(intact).toBe(true);
    expect(received).toBe(total);
    expect(growth, `RSS grew ${growth.toFixed(1)} MiB`).toBeLessThan(50);
  }, 90_000);

  it("streams a 200 MB response body (docker save) to a slower client unchanged with RSS growth under 50 MB", async () => {
    const pattern = randomBytes(MiB);
    const total = 200 * MiB;
    t.engine = await fakeEngine(
      t.enginePath(),
      simpleAnswers((_h, _b, conn) => {
        conn.socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/x-tar\r\nContent-Length: ${total}\r\n\r\n`);
        void writeRepeated(conn.socket, pattern, 200);
        return undefined;
      }),
    );
    const relayProcess = await relayChild(t.enginePath());
    const socket = connect({ path: relayProcess.path });
    await once(socket, "connect");
    await relayProcess.reset();
    let received = -1;
    let head = Buffer.alloc(0);
    let intact = true;
    let sinceRest = 0;
    const done = new Promise<void>((resolve) => {
      socket.on("data", (d: Buffer) => {
        // slower than the engine: without backpressure the relay would have to hold the difference
        sinceRest += d.length;
        if (sinceRest >= 4 * MiB) {
          sinceRest = 0;
          socket.pause();
          setTimeout(() => socket.resume(), 10);
        }
        let data = d;
        if (received < 0) {
          head = Buffer.concat([head, d]);
          const end = head.indexOf("\r\n\r\n");
          if (end < 0) return;
          data = head.subarray(end + 4);
          received = 0;
        }
        if (matchesPattern(pattern, received, data) < 0) intact = false;
        received += data.length;
        if (received >= total) resolve();
      });
    });
    socket.write("GET /v1.41/images/get?names=bb HTTP/1.1\r\n\r\n");
    await done;
    const { growth } = await relayProcess.peak();
    socket.destroy();
    expect(intact).toBe(true);
    expect(received).toBe(total);
    expect(growth, `RSS grew ${growth.toFixed(1)} MiB`).toBeLessThan(50);
  }, 90_000);

  it("runs 1,000 concurrent long-lived streaming responses, each chunk reaching its client while all stay open, with bounded memory", async () => {
    const streams = new Set<Socket>();
    t.engine = await fakeEngine(
      t.enginePath(),
      simpleAnswers((_h, _b, conn) => {
        conn.socket.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
        streams.add(conn.socket);
        conn.socket.on("close", () => streams.delete(conn.socket));
        return undefined;
      }),
    );
    const relayProcess = await relayChild(t.enginePath());
    const count = 1000;
    const rounds = 50;
    const chunk = `1000\r\n${"s".repeat(0x1000 - 1)}\n\r\n`; // 4 KiB of stats per round and stream: 200 MB in all
    const clients: { socket: Socket; bytes: number; done: boolean }[] = [];
    await relayProcess.reset();
    for (let batch = 0; batch < count / 100; batch++) {
      await Promise.all(
        Array.from({ length: 100 }, async (_, i) => {
          const socket = connect({ path: relayProcess.path });
          const entry = { socket, bytes: 0, done: false };
          socket.on("data", (d: Buffer) => {
            entry.bytes += d.length;
            if (d.subarray(-5).toString() === "0\r\n\r\n") entry.done = true;
          });
          socket.on("error", () => undefined);
          await once(socket, "connect");
          socket.write(`GET /v1.41/containers/c${batch * 100 + i}/stats?stream=1 HTTP/1.1\r\nHost: api.moby.localhost\r\n\r\n`);
          clients.push(entry);
        }),
      );
    }
    await until(() => streams.size === count, `${count} streams at the engine (${streams.size})`, 20_000);
    for (let round = 1; round <= rounds; round++) {
      for (const s of streams) s.write(chunk);
      // every client has its chunk of this round before the next one is sent: nothing waits behind anything else
      await until(() => clients.every((c) => c.bytes >= round * chunk.length), `round ${round} at every client`, 20_000);
    }
    expect((await relayProcess.peak()).connections).toBe(count);
    for (const s of streams) s.write("0\r\n\r\n");
    await until(() => clients.every((c) => c.done), "every stream's end", 20_000);
    const { growth } = await relayProcess.peak();
    for (const c of clients) c.socket.destroy();
    const deadline = Date.now() + 20_000;
    while ((await relayProcess.peak()).connections > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect((await relayProcess.peak()).connections).toBe(0);
    expect(growth, `RSS grew ${growth.toFixed(1)} MiB for ${count} streams`).toBeLessThan(100);
  }, 120_000);
});

describe("no leaks", () => {
  it("leaves no file descriptor open after 500 connections of every kind (keep-alive, aborted, malformed, tunnels, in-process)", async () => {
    t.engine = await fakeEngine(t.enginePath(), (conn) => {
      conn.socket.on("end", () => conn.socket.end()); // as dockerd: close when the relay closes
      simpleAnswers((head) => {
        if (head.includes("/attach")) return "HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n";
        if (head.includes("/stream")) return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n";
        return ok("fine");
      })(conn);
    });
    t.relay = await startRelay(t.dir, t.enginePath(), {
      routes: compileRoutes([{ method: "POST", path: "/containers/{id}/start", handler: (_req, res) => void res.writeHead(204).end() }]),
    });
    const kinds = [
      async (): Promise<void> => {
        const c = await rawClient(t.relay!.path);
        c.socket.write("GET /_ping HTTP/1.1\r\n\r\n");
        await c.waitFor("fine");
        c.socket.write("GET /_ping HTTP/1.1\r\n\r\n");
        await until(() => c.text().split("fine").length === 3, "two answers");
        c.socket.end();
        await c.waitEnd();
      },
      async (): Promise<void> => {
        const c = await rawClient(t.relay!.path);
        c.socket.write("GET /stream HTTP/1.1\r\n\r\n");
        await c.waitFor("first");
        c.socket.destroy();
      },
      async (): Promise<void> => {
        const c = await rawClient(t.relay!.path);
        c.socket.write("GET / HTTP/1.1\n\n");
        await c.waitEnd();
        c.socket.end();
      },
      async (): Promise<void> => {
        const c = await rawClient(t.relay!.path);
        c.socket.write("POST /containers/x/attach HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n");
        await c.waitFor("101 UPGRADED");
        c.socket.end();
        await c.waitEnd();
      },
      async (): Promise<void> => {
        const c = await rawClient(t.relay!.path);
        c.socket.write("POST /containers/x/start HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
        await c.waitFor("204 No Content");
        c.socket.end();
        await c.waitEnd();
      },
    ];
    // warm up every path once, so that descriptors Node opens lazily are not counted as leaks
    for (const kind of kinds) await kind();
    await until(() => t.relay!.relay.connectionCount === 0 && t.engine!.open() === 0, "the warm-up connections to close");
    const before = openFds();
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(Array.from({ length: 50 }, (_, i) => kinds[(batch * 50 + i) % kinds.length]!()));
    }
    await until(() => t.relay!.relay.connectionCount === 0 && t.engine!.open() === 0, "every connection to close", 10_000);
    await until(() => openFds() <= before, `descriptors back to ${before} (now ${openFds()})`, 5_000);
    expect(openFds()).toBe(before);
    expect(t.engine.connections.length).toBe(303); // 3 of the 5 kinds reach the engine: 3 warm-up connections + 300
  }, 60_000);
});
