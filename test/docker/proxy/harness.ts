/**
 * Test support for the relay: a scriptable fake engine on a UNIX socket that records the exact bytes of each
 * connection (with answers held for the test, or streamed without end), raw clients that record the exact bytes they
 * receive, a relay on a socket in a temporary folder, and the per-test state and hooks the relay test files share.
 */
import { once } from "node:events";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach } from "vitest";
import { createRelayServer, type RelayServer, type RelayServerOptions } from "../../../src/docker/proxy/relay.js";

/** A short temporary folder (UNIX socket paths must stay below 108 bytes), removed by `cleanup`. */
export function tempDir(prefix = "hprelay-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Waits until `check` returns true (polling every 5 ms), or throws with `what` after `ms`. */
export async function until(check: () => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** One connection the fake engine accepted. */
export interface EngineConnection {
  /** Its socket (allowHalfOpen). */
  readonly socket: Socket;
  /** Every byte received so far. */
  received(): Buffer;
  /** True once the relay ended its side. */
  readonly ended: boolean;
  /** True once the socket closed. */
  readonly closed: boolean;
}

/**
 * Waits until the relay closed its side of `conn`, then writes a probe: it fails (and the socket closes) only when the
 * relay destroyed the connection rather than just ending its side of it. On UNIX sockets both look like an end.
 */
export async function engineConnectionDestroyed(conn: EngineConnection, ms = 2_000): Promise<void> {
  await until(() => conn.ended, "the relay to end the engine connection", ms);
  if (!conn.closed) conn.socket.write("probe");
  await until(() => conn.closed, "the probe to fail (the relay destroyed the engine connection)", ms);
}

/** A fake engine: `onConnection` scripts each connection. */
export interface FakeEngine {
  /** Its socket path ("" on TCP). */
  readonly path: string;
  /** Its TCP port (0 on a UNIX socket). */
  readonly port: number;
  /** Every connection accepted so far, in order. */
  readonly connections: EngineConnection[];
  /** Connections not closed yet. */
  open(): number;
  /** Stops listening and destroys every connection. */
  close(): Promise<void>;
}

/**
 * Starts a fake engine on the UNIX socket `path` (or on a TCP port of 127.0.0.1 for `"tcp"`); `onConnection` gets each
 * connection (read `conn.socket`, write answers). `record: false` keeps `received()` empty (for large transfers).
 */
export async function fakeEngine(path: string, onConnection: (conn: EngineConnection) => void, options: { record?: boolean } = {}): Promise<FakeEngine> {
  const record = options.record ?? true;
  const connections: EngineConnection[] = [];
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    const chunks: Buffer[] = [];
    const conn = {
      socket,
      ended: false,
      closed: false,
      received: () => Buffer.concat(chunks),
    };
    if (record) socket.on("data", (d: Buffer) => chunks.push(d));
    socket.on("end", () => {
      conn.ended = true;
    });
    socket.on("error", () => undefined);
    socket.on("close", () => {
      conn.closed = true;
      conn.ended = true; // a write that failed (EPIPE) closes the socket without an "end" first
    });
    connections.push(conn);
    onConnection(conn);
  });
  if (path === "tcp") server.listen({ port: 0, host: "127.0.0.1", backlog: 2048 });
  else server.listen({ path, backlog: 2048 });
  await once(server, "listening");
  const address = server.address();
  return {
    path: path === "tcp" ? "" : path,
    port: typeof address === "object" && address ? address.port : 0,
    connections,
    open: () => connections.filter((c) => !c.closed).length,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const c of connections) c.socket.destroy();
      await closed;
    },
  };
}

/**
 * A fake engine that answers each complete request (head ending in CRLFCRLF, body by Content-Length) with `answer`,
 * keeping the connection alive. Good for simple keep-alive tests; `answer` gets the request head as text.
 */
export function simpleAnswers(answer: (head: string, body: Buffer, conn: EngineConnection) => string | Buffer | undefined): (conn: EngineConnection) => void {
  return (conn) => {
    let buffer = Buffer.alloc(0);
    conn.socket.on("data", (d: Buffer) => {
      buffer = Buffer.concat([buffer, d]);
      for (;;) {
        const end = buffer.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = buffer.subarray(0, end + 4).toString("latin1");
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffer.length < end + 4 + length) return;
        const body = buffer.subarray(end + 4, end + 4 + length);
        buffer = buffer.subarray(end + 4 + length);
        const reply = answer(head, body, conn);
        if (reply !== undefined) conn.socket.write(reply);
      }
    });
  };
}

/** An engine's answer that waits for the test (see heldAnswer). */
export interface HeldAnswer {
  /** The engine's connection handler, for fakeEngine. */
  readonly onConnection: (conn: EngineConnection) => void;
  /** True once the held request reached the engine. */
  readonly arrived: boolean;
  /** Writes the held answer on the connection the held request came on. */
  release(): void;
}

/**
 * An engine that holds back its answer to a request whose head starts with `heldHead` until the test calls `release()`,
 * and answers any other request with `otherwise` at once (or not at all without it), keeping connections alive.
 */
export function heldAnswer(heldHead: string, answer: string, otherwise?: string): HeldAnswer {
  let held: EngineConnection | undefined;
  return {
    onConnection: simpleAnswers((head, _body, conn) => {
      if (!head.startsWith(heldHead)) return otherwise;
      held = conn;
      return undefined;
    }),
    get arrived() {
      return held !== undefined;
    },
    release() {
      if (!held) throw new Error(`no request starting with ${JSON.stringify(heldHead)} reached the engine`);
      held.socket.write(answer);
    },
  };
}

/** An engine answering with a stream that never ends (see endlessStream). */
export interface EndlessStream {
  /** The engine's connection handler, for fakeEngine. */
  readonly onConnection: (conn: EngineConnection) => void;
  /** The connection of the latest request (undefined before the first). */
  readonly conn: EngineConnection | undefined;
}

/**
 * An engine that answers each request with a chunked 200 that never ends (docker logs --follow, a pull's progress):
 * `chunk`, a whole chunk with its size line, every 10 ms until the connection closes.
 */
export function endlessStream(chunk: string): EndlessStream {
  let latest: EngineConnection | undefined;
  return {
    onConnection: simpleAnswers((_head, _body, conn) => {
      latest = conn;
      conn.socket.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
      const timer = setInterval(() => conn.socket.write(chunk), 10);
      conn.socket.on("close", () => clearInterval(timer));
      return undefined;
    }),
    get conn() {
      return latest;
    },
  };
}

/** A 200 response with `body` and its Content-Length. */
export function ok(body: string, extra = ""): string {
  return `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/** A raw client connection that records what it receives. */
export interface RawClient {
  /** Its socket (allowHalfOpen). */
  readonly socket: Socket;
  /** Every byte received so far. */
  received(): Buffer;
  /** What was received, as latin1 text. */
  text(): string;
  /** True once the relay ended its side. */
  readonly ended: boolean;
  /** True once the socket closed. */
  readonly closed: boolean;
  /** Waits until the received text includes `text`. */
  waitFor(text: string, ms?: number): Promise<void>;
  /** Waits until the relay ended the connection. */
  waitEnd(ms?: number): Promise<void>;
}

/** Connects to `path`. */
export async function rawClient(path: string): Promise<RawClient> {
  const socket = connect({ path, allowHalfOpen: true });
  const chunks: Buffer[] = [];
  const client = {
    socket,
    ended: false,
    closed: false,
    received: () => Buffer.concat(chunks),
    text: () => Buffer.concat(chunks).toString("latin1"),
    waitFor: (text: string, ms?: number) => until(() => client.text().includes(text), `${JSON.stringify(text.slice(0, 60))} in ${JSON.stringify(client.text().slice(-200))}`, ms),
    waitEnd: (ms?: number) => until(() => client.ended, "the end of the connection", ms),
  };
  socket.on("data", (d: Buffer) => chunks.push(d));
  socket.on("end", () => {
    client.ended = true;
  });
  socket.on("error", () => undefined);
  socket.on("close", () => {
    client.closed = true;
    client.ended = true;
  });
  await once(socket, "connect");
  return client;
}

/** A relay that startRelay started, with the path of its socket. */
export type StartedRelay = RelayServer & { path: string };

/** A relay on `<dir>/proxy.sock` in front of `upstream` (a UNIX socket path) unless options say otherwise. */
export async function startRelay(dir: string, upstreamPath: string, options: Partial<RelayServerOptions> = {}): Promise<StartedRelay> {
  const path = join(dir, "proxy.sock");
  const server = createRelayServer({ upstream: { kind: "unix", path: upstreamPath }, ...options });
  await server.listen(path);
  return Object.assign(server, { path });
}

/** What the tests of a relay test file share: a temporary folder of their own, and the engine and relay they start. */
export interface RelayTest {
  /** This test's temporary folder. */
  readonly dir: string;
  /** The fake engine's socket in it: `<dir>/engine.sock`. */
  enginePath(): string;
  /** The fake engine the test started, closed after the test. */
  engine: FakeEngine | undefined;
  /** The relay the test started, closed after the test (100 ms grace), before the engine. */
  relay: StartedRelay | undefined;
  /** Errors the relay reported to an `onError` that pushes them here; emptied before each test. */
  readonly reported: Error[];
}

/**
 * Registers the hooks of a relay test file and returns the state they keep: before each test a new temporary folder;
 * after it the relay closed, then `afterRelay` (for what the file opens itself), then the engine, then the folder removed.
 */
export function useRelayTest(afterRelay?: () => void): RelayTest {
  let cleanup = (): void => undefined;
  const state = {
    dir: "",
    enginePath: (): string => join(state.dir, "engine.sock"),
    engine: undefined as FakeEngine | undefined,
    relay: undefined as StartedRelay | undefined,
    reported: [] as Error[],
  };
  beforeEach(() => {
    ({ dir: state.dir, cleanup } = tempDir());
    state.reported.length = 0;
  });
  afterEach(async () => {
    await state.relay?.close({ graceMs: 100 });
    afterRelay?.();
    await state.engine?.close();
    state.relay = undefined;
    state.engine = undefined;
    cleanup();
  });
  return state;
}

/** The process's open file descriptors. */
export function openFds(): number {
  return readdirSync("/proc/self/fd").length;
}

/** The JSON body of a raw HTTP response with a Content-Length. */
export function jsonBody(response: string): unknown {
  const at = response.indexOf("\r\n\r\n");
  return JSON.parse(response.slice(at + 4));
}
