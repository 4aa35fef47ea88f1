/**
 * What the relay keeps of a call on the wire, against a fake runtime (a Node HTTP/2 server on a UNIX socket that
 * records what it gets; containerd echoes none of it): the caller's metadata and grpc-timeout to the runtime, the
 * runtime's reply metadata, trailing metadata, status codes and messages back, streams message by message both ways,
 * cancellation and deadlines ending the runtime's call, and UNAVAILABLE when the runtime is gone or drops the call.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { constants, createServer, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from "node:http2";
import { tmpdir } from "node:os";
import type { Socket } from "node:net";
import { join } from "node:path";
import type * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeMessage } from "../../src/cri/protoCodec.js";
import { criSchema } from "../../src/cri/criSchema.generated.js";
import { encodeGrpcMessage, frameMessage, parseGrpcTimeout } from "../../src/cri/grpcWire.js";
import { containerConfig, podConfig } from "./criClient.js";
import { http2Call, rawBidi, rawClient, rawServerStream, rawUnary } from "./rawCalls.js";
import { startRelay, type RelayFixture } from "./relayFixture.js";

/** One call as the fake runtime got it. */
interface SeenCall {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The HTTP/2 code the call's stream closed with, once closed. */
  rstCode?: number;
  closed: boolean;
}

/** A fake runtime on a UNIX socket. */
interface FakeRuntime {
  readonly seen: SeenCall[];
  /** Stops listening and drops every connection (the socket file goes). */
  stop(): Promise<void>;
}

const utf8Message = "café: 100% sure ✓, or not";
const trailerBin = Buffer.from([0xff, 0x00, 0x7f, 0x80]);

/** Splits complete gRPC frames off the front of `buffer`; returns the payloads and what is left. */
function takeFrames(buffer: Buffer): { frames: Buffer[]; rest: Buffer } {
  const frames: Buffer[] = [];
  let rest = buffer;
  while (rest.length >= 5 && rest.length >= 5 + rest.readUInt32BE(1)) {
    const length = rest.readUInt32BE(1);
    frames.push(rest.subarray(5, 5 + length));
    rest = rest.subarray(5 + length);
  }
  return { frames, rest };
}

const ok = { ":status": 200, "content-type": "application/grpc" } as const;

/** How many messages of /fake.Echo/Stream the caller has received (the test counts, the fake runtime reads). */
const streamProgress = { received: 0 };

/** The fake runtime's answer to one call, by path. */
function answer(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, crash: () => void): void {
  const path = headers[":path"] ?? "";
  const readAll = (): Promise<Buffer> =>
    new Promise((resolve) => {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => resolve(Buffer.concat(chunks)));
    });
  switch (path) {
    case "/fake.Echo/Unary":
      // the request message back, with reply metadata (text and binary) in the headers and in the trailers
      void readAll().then((body) => {
        stream.respond({ ...ok, "x-initial": "i1", "x-initial-bin": Buffer.from("initial").toString("base64") }, { waitForTrailers: true });
        stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0", "x-trailer": "t1", "x-trailer-bin": trailerBin.toString("base64") }));
        stream.end(body);
      });
      return;
    case "/fake.Echo/Status": {
      // the status the caller asks for, trailers-only or after a message, with a UTF-8 message and trailing metadata
      const code = String(headers["x-want-code"]);
      const status = { "grpc-status": code, "grpc-message": encodeGrpcMessage(`${utf8Message} (${code})`), "x-why": `because-${code}` };
      void readAll().then(() => {
        if (headers["x-want-form"] === "trailers-only") {
          stream.respond({ ...ok, ...status }, { endStream: true });
          return;
        }
        stream.respond(ok, { waitForTrailers: true });
        stream.on("wantTrailers", () => stream.sendTrailers(status));
        stream.end(frameMessage(Buffer.from("partial")));
      });
      return;
    }
    case "/fake.Echo/Stream": {
      // three messages, each sent only once the caller has the one before (or, failing that, after 2 s, marked "late")
      void readAll().then(async () => {
        stream.respond(ok, { waitForTrailers: true });
        stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0", "x-sent": "3" }));
        for (let i = 1; i <= 3; i++) {
          const waited = Date.now();
          while (streamProgress.received < i - 1 && Date.now() - waited < 2_000) await new Promise((r) => setTimeout(r, 5));
          stream.write(frameMessage(Buffer.from(`message ${i}${streamProgress.received < i - 1 ? " late" : ""}`)));
        }
        stream.end();
      });
      return;
    }
    case "/fake.Echo/Bidi": {
      // each message back as it comes, upper-cased, before the caller has sent the next
      stream.respond(ok, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      let pending: Buffer = Buffer.alloc(0);
      stream.on("data", (chunk: Buffer) => {
        const { frames, rest } = takeFrames(Buffer.concat([pending, chunk]));
        pending = rest;
        for (const frame of frames) stream.write(frameMessage(Buffer.from(frame.toString().toUpperCase())));
      });
      stream.on("end", () => stream.end());
      return;
    }
    case "/fake.Echo/Hang":
      stream.resume(); // never answers
      return;
    case "/fake.Echo/Crash":
      // the runtime dies in the middle of the call: headers and a message sent, then the connection is gone
      stream.respond(ok);
      stream.write(frameMessage(Buffer.from("half")), () => crash());
      return;
    case "/runtime.v1.RuntimeService/CreateContainer":
      void readAll().then(() => {
        stream.respond(ok, { waitForTrailers: true });
        stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
        stream.end(frameMessage(Buffer.concat([Buffer.from([0x0a, 7]), Buffer.from("fake-id")]))); // CreateContainerResponse{container_id}
      });
      return;
    default:
      stream.respond({ ...ok, "grpc-status": "12", "grpc-message": `unknown path ${path}` }, { endStream: true });
  }
}

/** Starts the fake runtime on `socketPath`. */
async function startFakeRuntime(socketPath: string, seen: SeenCall[] = []): Promise<FakeRuntime> {
  const sessions = new Set<ServerHttp2Session>();
  const server: Http2Server = createServer();
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  // the runtime dies: its connections close under the calls, with no GOAWAY
  const crash = (): void => {
    for (const socket of sockets) socket.destroy();
  };
  server.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
    session.on("error", () => undefined);
  });
  server.on("stream", (stream, headers) => {
    const call: SeenCall = { path: headers[":path"] ?? "", headers: { ...headers }, closed: false };
    seen.push(call);
    stream.on("error", () => undefined);
    stream.on("close", () => {
      call.closed = true;
      call.rstCode = stream.rstCode;
    });
    answer(stream, headers, crash);
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    seen,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const session of sessions) session.destroy();
      }),
  };
}

const until = async (what: string, check: () => boolean, ms: number): Promise<void> => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** The headers a runtime can compare between two calls: no pseudo-headers, and grpc-timeout only as present or not. */
const comparable = (headers: IncomingHttpHeaders): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(headers)) if (!k.startsWith(":")) out[k] = k === "grpc-timeout" ? "<present>" : v;
  return out;
};

describe("hookplugins cri-proxy on the wire, in front of a fake runtime", () => {
  let dir: string;
  let runtimeSocket: string;
  let runtime: FakeRuntime;
  let relay: RelayFixture;
  let viaRelay: grpc.Client;
  let direct: grpc.Client;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hpwire-"));
    runtimeSocket = join(dir, "runtime.sock");
    runtime = await startFakeRuntime(runtimeSocket);
    relay = await startRelay(runtimeSocket);
    viaRelay = rawClient(relay.socketPath);
    direct = rawClient(runtimeSocket);
  });

  afterAll(async () => {
    viaRelay?.close();
    direct?.close();
    await relay?.stop();
    await runtime?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const lastSeen = (path: string): SeenCall => {
    const call = runtime.seen.filter((c) => c.path === path).at(-1);
    if (!call) throw new Error(`the runtime saw no call of ${path}`);
    return call;
  };

  it("gives the runtime the caller's headers as they came: text and binary metadata, user-agent, grpc-timeout for the time left", async () => {
    const metadata = { "x-trace-id": "abc-123", "x-token-bin": Buffer.from([1, 2, 3, 250]) };
    await rawUnary(direct, "/fake.Echo/Unary", Buffer.from("hi"), { metadata, timeoutMs: 5_000 });
    const straight = lastSeen("/fake.Echo/Unary").headers;
    const outcome = await rawUnary(viaRelay, "/fake.Echo/Unary", Buffer.from("hi"), { metadata, timeoutMs: 5_000 });
    expect(outcome.code).toBe(0);
    const relayed = lastSeen("/fake.Echo/Unary").headers;
    expect(relayed["x-trace-id"]).toBe("abc-123");
    expect(Buffer.from(String(relayed["x-token-bin"]), "base64")).toEqual(Buffer.from([1, 2, 3, 250]));
    expect(comparable(relayed)).toEqual(comparable(straight));
    expect(relayed[":path"]).toBe("/fake.Echo/Unary");
    const timeout = parseGrpcTimeout(relayed["grpc-timeout"]);
    expect(timeout).toBeGreaterThan(4_000);
    expect(timeout).toBeLessThanOrEqual(5_000);
  });

  it("gives the caller the runtime's reply message, reply metadata and trailing metadata (text and binary)", async () => {
    const outcome = await rawUnary(viaRelay, "/fake.Echo/Unary", Buffer.from("echo me"));
    expect(outcome.code).toBe(0);
    expect(outcome.messages.map(String)).toEqual(["echo me"]);
    expect(outcome.initial["x-initial"]).toBe("i1");
    expect(outcome.initial["x-initial-bin"]).toEqual(Buffer.from("initial"));
    expect(outcome.trailing["x-trailer"]).toBe("t1");
    expect(outcome.trailing["x-trailer-bin"]).toEqual(trailerBin);
  });

  it("gives the caller every status code the runtime answers, with its UTF-8 message and trailing metadata, trailers-only or after a message", async () => {
    for (const form of ["trailers-only", "after-data"]) {
      for (let code = 1; code <= 16; code++) {
        const metadata = { "x-want-code": String(code), "x-want-form": form };
        const [relayed, straight] = [await rawUnary(viaRelay, "/fake.Echo/Status", Buffer.alloc(0), { metadata }), await rawUnary(direct, "/fake.Echo/Status", Buffer.alloc(0), { metadata })];
        expect({ form, code: relayed.code, details: relayed.details, why: relayed.trailing["x-why"] }).toEqual({ form, code, details: `${utf8Message} (${code})`, why: `because-${code}` });
        expect({ code: relayed.code, details: relayed.details, trailing: relayed.trailing["x-why"] }).toEqual({ code: straight.code, details: straight.details, trailing: straight.trailing["x-why"] });
      }
    }
  });

  it("relays a server stream message by message, as the runtime sends them, with its trailers", async () => {
    streamProgress.received = 0;
    const outcome = await rawServerStream(viaRelay, "/fake.Echo/Stream", Buffer.alloc(0), { onMessage: () => void streamProgress.received++ });
    expect(outcome.code).toBe(0);
    // not one "late": each message reached the caller before the runtime sent the next (a relay holding the stream until its end would make all but the first late)
    expect(outcome.messages.map(String)).toEqual(["message 1", "message 2", "message 3"]);
    expect(outcome.trailing["x-sent"]).toBe("3");
  });

  it("relays a bidirectional stream both ways, each reply before the caller sends its next message", async () => {
    const replies: string[] = [];
    const { call, outcome } = rawBidi(viaRelay, "/fake.Echo/Bidi", { onMessage: (m) => replies.push(String(m)) });
    for (const word of ["one", "two", "three"]) {
      call.write(Buffer.from(word));
      await until(`the reply to ${word}`, () => replies.includes(word.toUpperCase()), 2_000);
    }
    call.end();
    expect((await outcome).code).toBe(0);
    expect(replies).toEqual(["ONE", "TWO", "THREE"]);
  });

  it("cancels the runtime's call (RST_STREAM CANCEL) when the caller cancels", async () => {
    const before = runtime.seen.length;
    const controller = new AbortController();
    const pending = rawUnary(viaRelay, "/fake.Echo/Hang", Buffer.from("x"), { signal: controller.signal });
    await until("the runtime to get the call", () => runtime.seen.slice(before).some((c) => c.path === "/fake.Echo/Hang"), 2_000);
    controller.abort();
    expect((await pending).code).toBe(1); // CANCELLED
    const call = lastSeen("/fake.Echo/Hang");
    await until("the runtime's call to close", () => call.closed, 2_000);
    expect(call.rstCode).toBe(constants.NGHTTP2_CANCEL);
  });

  it("ends a call the runtime never answers at the caller's deadline, and cancels it at the runtime", async () => {
    const outcome = await rawUnary(viaRelay, "/fake.Echo/Hang", Buffer.from("x"), { timeoutMs: 400 });
    expect(outcome.code).toBe(4); // DEADLINE_EXCEEDED
    expect(outcome.ms).toBeGreaterThanOrEqual(390);
    expect(outcome.ms).toBeLessThan(1_500);
    const call = lastSeen("/fake.Echo/Hang");
    await until("the runtime's call to close", () => call.closed, 2_000);
    expect(call.rstCode).toBe(constants.NGHTTP2_CANCEL);
  });

  it("keeps the caller's metadata on an intercepted call (CreateContainer) and passes the time left as grpc-timeout", async () => {
    const request = encodeMessage(criSchema, "CreateContainerRequest", { pod_sandbox_id: "pod", config: containerConfig("c", "img"), sandbox_config: podConfig("p") });
    const reply = await http2Call(relay.socketPath, "/runtime.v1.RuntimeService/CreateContainer", frameMessage(request), { "grpc-timeout": "3S", "x-trace-id": "create-1", "x-token-bin": "AQID" });
    expect(reply.status).toBe("0");
    expect(reply.body.subarray(5).toString()).toContain("fake-id");
    const seen = lastSeen("/runtime.v1.RuntimeService/CreateContainer").headers;
    expect(seen["x-trace-id"]).toBe("create-1");
    expect(seen["x-token-bin"]).toBe("AQID");
    const timeout = parseGrpcTimeout(seen["grpc-timeout"])!;
    expect(timeout).toBeGreaterThan(2_000);
    expect(timeout).toBeLessThanOrEqual(3_000);
  });

  it("answers UNAVAILABLE naming the runtime's socket when the runtime's connection drops in the middle of a call", async () => {
    const outcome = await rawUnary(viaRelay, "/fake.Echo/Crash", Buffer.from("x"), { timeoutMs: 5_000 });
    expect(outcome.code).toBe(14);
    expect(outcome.details).toContain(`unix://${runtimeSocket}`);
    expect(outcome.details).toMatch(/is not answering \(the connection closed during the call\); check that it is running/);
    expect(outcome.ms).toBeLessThan(2_000);
    // and the next call gets a new connection
    expect((await rawUnary(viaRelay, "/fake.Echo/Unary", Buffer.from("again"), { timeoutMs: 5_000 })).messages.map(String)).toEqual(["again"]);
  });

  it("answers UNAVAILABLE at once, naming the socket and what to check, while the runtime is gone, and reaches it again once it is back", async () => {
    await runtime.stop();
    try {
      const outcome = await rawUnary(viaRelay, "/fake.Echo/Unary", Buffer.from("x"), { timeoutMs: 10_000 });
      expect(outcome.code).toBe(14);
      expect(outcome.details).toBe(
        `hookplugins cri-proxy: the container runtime at unix://${runtimeSocket} is not answering (connect ENOENT ${runtimeSocket}); check that it is running and listens there (the relay connects again on the next call)`,
      );
      expect(outcome.ms).toBeLessThan(1_000);
    } finally {
      runtime = await startFakeRuntime(runtimeSocket, runtime.seen);
    }
    expect((await rawUnary(viaRelay, "/fake.Echo/Unary", Buffer.from("back"), { timeoutMs: 5_000 })).messages.map(String)).toEqual(["back"]);
  });
});
