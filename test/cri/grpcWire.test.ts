/**
 * gRPC over HTTP/2 as the relay speaks it (src/cri/grpcWire.ts): the 5-byte message frame, compressed messages,
 * `grpc-timeout` and the percent-encoded `grpc-message`; checked by hand and against @grpc/grpc-js on a UNIX socket
 * (a client talking to a bare HTTP/2 server built from these functions, and CriUpstream talking to a grpc-js server).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deflateSync, gzipSync } from "node:zlib";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CriStatusError, decodeGrpcMessage, encodeGrpcMessage, formatGrpcTimeout, frameMessage, GrpcStatus, parseGrpcTimeout, unframeSingle } from "../../src/cri/grpcWire.js";
import { answerStatus } from "../../src/cri/relayServer.js";
import { CriUpstream } from "../../src/cri/upstream.js";

/** What `fn` threw (fails the test when it returned). */
function thrown(fn: () => unknown): CriStatusError {
  try {
    fn();
  } catch (error) {
    return error as CriStatusError;
  }
  throw new Error("expected a throw");
}

/** A frame with `flag` around `payload` (frameMessage always writes flag 0). */
function frameWithFlag(flag: number, payload: Uint8Array): Buffer {
  const frame = frameMessage(payload);
  frame[0] = flag;
  return frame;
}

describe("gRPC message frames", () => {
  it("frameMessage writes flag 0, the length as 4 bytes big-endian, then the payload", () => {
    expect([...frameMessage(Uint8Array.from([7, 8, 9]))]).toEqual([0, 0, 0, 0, 3, 7, 8, 9]);
    expect([...frameMessage(new Uint8Array(0))]).toEqual([0, 0, 0, 0, 0]);
    expect(frameMessage(new Uint8Array(0x01020304 & 0xffff)).subarray(0, 5)).toEqual(Buffer.from([0, 0, 0, 0x03, 0x04]));
  });

  it("unframeSingle gives back the payload frameMessage framed, empty and large alike", () => {
    for (const payload of [new Uint8Array(0), Buffer.from("hello"), Buffer.alloc(5 * 1024 * 1024, 0xab)]) {
      expect(unframeSingle(frameMessage(payload), undefined, "/m").equals(Buffer.from(payload))).toBe(true);
    }
  });

  it("unframeSingle refuses a body of two messages (a unary call carries one), saying so", () => {
    const body = Buffer.concat([frameMessage(Buffer.from("one")), frameMessage(Buffer.from("two"))]);
    const error = thrown(() => unframeSingle(body, undefined, "/runtime.v1.RuntimeService/CreateContainer"));
    expect(error).toBeInstanceOf(CriStatusError);
    expect(error.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(error.message).toBe("/runtime.v1.RuntimeService/CreateContainer: the body is not exactly one gRPC message (16 bytes for a 3-byte message)");
  });

  it("unframeSingle refuses a frame cut short and a body too short for a frame header", () => {
    expect(thrown(() => unframeSingle(frameMessage(Buffer.from("hello")).subarray(0, 7), undefined, "/m"))).toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT, message: "/m: the body is not exactly one gRPC message (7 bytes for a 5-byte message)" });
    expect(thrown(() => unframeSingle(Buffer.from([0, 0, 0]), undefined, "/m"))).toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT, message: "/m: the body holds no gRPC message" });
    expect(thrown(() => unframeSingle(Buffer.alloc(0), undefined, "/m")).code).toBe(GrpcStatus.INVALID_ARGUMENT);
  });

  it("unframeSingle inflates a compressed message sent with grpc-encoding gzip or deflate", () => {
    const payload = Buffer.from("a CreateContainerRequest, compressed ".repeat(50));
    expect(unframeSingle(frameWithFlag(1, gzipSync(payload)), "gzip", "/m").equals(payload)).toBe(true);
    expect(unframeSingle(frameWithFlag(1, deflateSync(payload)), "deflate", "/m").equals(payload)).toBe(true);
  });

  it("unframeSingle reads the flag, not the header: an uncompressed message under grpc-encoding gzip is taken as it is", () => {
    expect(unframeSingle(frameMessage(Buffer.from("plain")), "gzip", "/m").toString()).toBe("plain");
  });

  it.each([
    [undefined, "no grpc-encoding"],
    ["snappy", "snappy"],
    ["identity", "identity"],
  ])("unframeSingle refuses a compressed message under grpc-encoding %s as UNIMPLEMENTED, naming what works", (encoding, named) => {
    const error = thrown(() => unframeSingle(frameWithFlag(1, Buffer.from("x")), encoding, "/m"));
    expect(error.code).toBe(GrpcStatus.UNIMPLEMENTED);
    expect(error.message).toBe(`/m: compressed with ${named}, which the relay cannot read; send it uncompressed, gzip or deflate`);
  });

  it("unframeSingle refuses a corrupt gzip message as INVALID_ARGUMENT, not a bare zlib error", () => {
    const error = thrown(() => unframeSingle(frameWithFlag(1, Buffer.from("not gzip")), "gzip", "/m"));
    expect(error).toBeInstanceOf(CriStatusError);
    expect(error.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(error.message).toMatch(/^\/m: the message is not valid gzip \(/);
  });

  it("unframeSingle refuses a compressed message that inflates past the limit (RESOURCE_EXHAUSTED), and takes one at the limit", () => {
    const limit = 1024 * 1024;
    const bomb = frameWithFlag(1, gzipSync(Buffer.alloc(64 * limit)));
    expect(bomb.length).toBeLessThan(limit / 4);
    const error = thrown(() => unframeSingle(bomb, "gzip", "/m", limit));
    expect(error.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    expect(error.message).toBe(`/m: the gzip message inflates to more than ${limit} bytes (the relay's limit; raise maxMessageBytes)`);
    expect(unframeSingle(frameWithFlag(1, deflateSync(Buffer.alloc(limit))), "deflate", "/m", limit)).toHaveLength(limit);
  });

  it("unframeSingle refuses a flag byte other than 0 and 1", () => {
    expect(thrown(() => unframeSingle(frameWithFlag(2, gzipSync(Buffer.from("x"))), "gzip", "/m"))).toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT, message: "/m: the message's compressed flag is 2, not 0 or 1" });
  });
});

describe("grpc-timeout", () => {
  it.each([
    ["1H", 3_600_000],
    ["2M", 120_000],
    ["3S", 3_000],
    ["4m", 4],
    ["5000u", 5],
    ["6000000n", 6],
    ["0m", 0],
    ["99999999S", 99_999_999_000],
    ["00000010S", 10_000],
  ])("parses %s as %d ms", (value, ms) => {
    expect(parseGrpcTimeout(value)).toBeCloseTo(ms, 9);
  });

  it("parses sub-millisecond values as fractions of a millisecond", () => {
    expect(parseGrpcTimeout("500u")).toBeCloseTo(0.5, 12);
    expect(parseGrpcTimeout("1n")).toBeCloseTo(0.000001, 12);
  });

  it.each(["", "S", "1", "1h", "1s", "1U", "1N", "-1S", "+1S", "1.5S", "123456789S", " 1S", "1S ", "1 S", "0x1S", "１S", "1SS", "1e3m"])("refuses %j (undefined: no deadline)", (value) => {
    expect(parseGrpcTimeout(value)).toBeUndefined();
  });

  it("has no deadline when the header is absent or repeated", () => {
    expect(parseGrpcTimeout(undefined)).toBeUndefined();
    expect(parseGrpcTimeout(["1S", "2S"])).toBeUndefined();
  });

  it.each([
    [1, "1m"],
    [1500, "1500m"],
    [99_999_999, "99999999m"],
    [100_000_000, "100000S"],
    [100_000_001, "100001S"],
    [1e15, "99999999S"],
    [Infinity, "99999999S"],
  ])("formats %d ms as %s", (ms, value) => {
    expect(formatGrpcTimeout(ms)).toBe(value);
  });

  it("formats a deadline that has passed, or less than 1 ms away, as 1m (the runtime fails it, not the relay)", () => {
    expect(formatGrpcTimeout(0)).toBe("1m");
    expect(formatGrpcTimeout(-250)).toBe("1m");
    expect(formatGrpcTimeout(0.2)).toBe("1m");
  });

  it("rounds a fractional time left up, never down", () => {
    expect(formatGrpcTimeout(1499.01)).toBe("1500m");
  });

  it("round-trips: whole milliseconds below 10^8 exactly, longer ones to at most a second more, always a valid value", () => {
    const values = [1, 2, 999, 1000, 59_999, 86_400_000, 99_999_998, 99_999_999, 100_000_000, 123_456_789_012, 99_999_999_000];
    let seed = 12_345; // a fixed linear congruential sequence, so that a failure repeats
    const next = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 500; i++) values.push(Math.floor(next() * 10 ** (1 + next() * 12)) + 1);
    for (const ms of values) {
      const value = formatGrpcTimeout(ms);
      expect(value, `${ms}`).toMatch(/^\d{1,8}[mS]$/);
      const back = parseGrpcTimeout(value)!;
      if (ms < 1e8) expect(back, `${ms}`).toBe(ms);
      else if (ms <= 99_999_999_000) expect(back - ms, `${ms}`).toBeGreaterThanOrEqual(0);
      if (ms >= 1e8 && ms <= 99_999_999_000) expect(back - ms, `${ms}`).toBeLessThan(1000);
    }
  });
});

describe("grpc-message percent-encoding", () => {
  it("leaves printable ASCII other than % as it is", () => {
    const ascii = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join("").replace("%", "");
    expect(encodeGrpcMessage(ascii)).toBe(ascii);
  });

  it("percent-encodes %, control characters and every byte of non-ASCII UTF-8, in upper-case hex", () => {
    expect(encodeGrpcMessage("100% done")).toBe("100%25 done");
    expect(encodeGrpcMessage("line 1\nline 2\r\ttab\u0000")).toBe("line 1%0Aline 2%0D%09tab%00");
    expect(encodeGrpcMessage("\u007f")).toBe("%7F");
    expect(encodeGrpcMessage("naïve")).toBe("na%C3%AFve");
    expect(encodeGrpcMessage("🙂")).toBe("%F0%9F%99%82");
  });

  it("yields a valid HTTP/2 header value (visible ASCII and spaces only) for any string", () => {
    const samples = ["", "\u0000\u001f\u007f\u0080\u00ff", "日本語", "a\u2028b", "\ud83d", "%%%", "x".repeat(10_000)];
    for (const s of samples) expect(encodeGrpcMessage(s)).toMatch(/^[\x20-\x7e]*$/);
  });

  it("decodes what it encodes, for non-ASCII text, newlines and percent signs", () => {
    const samples = ['plugin "policy" failed in ContainerPlugin.preCreate: privileged containers are not allowed', "naïve 100%\nsecond line\ttab", "日本語 🙂 %41 %", "%25", "%%", "\r\n\u0000"];
    for (const s of samples) expect(decodeGrpcMessage(encodeGrpcMessage(s))).toBe(s);
  });

  it("decodes what grpc-js's server sends (encodeURI: reserved characters like # and / left as they are)", () => {
    const s = "a/b?c#d&e=f 100% ✓\nnext";
    expect(decodeGrpcMessage(encodeURI(s))).toBe(s);
  });

  it("gives back a value that is not valid percent-encoding as it came, rather than failing or dropping it", () => {
    expect(decodeGrpcMessage("50% off")).toBe("50% off");
    expect(decodeGrpcMessage("%zz")).toBe("%zz");
    expect(decodeGrpcMessage("%FF not UTF-8")).toBe("%FF not UTF-8");
  });
});

describe("against @grpc/grpc-js on a UNIX socket", () => {
  let dir: string;
  let ours: Http2Server;
  let oursPath: string;
  let theirs: grpc.Server;
  let theirsPath: string;
  let client: grpc.Client;
  const seen: { headers: IncomingHttpHeaders; request: Buffer }[] = [];
  const failWith = { code: GrpcStatus.FAILED_PRECONDITION as number, message: "" };
  const identity = (b: Buffer): Buffer => b;

  /** Our side: a bare HTTP/2 server that answers /test/Echo with the request reversed and /test/Fail with failWith. */
  function serveOurs(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => {
      const request = unframeSingle(Buffer.concat(chunks), headers["grpc-encoding"] as string | undefined, String(headers[":path"]));
      seen.push({ headers, request });
      if (headers[":path"] === "/test/Fail") {
        answerStatus(stream, failWith.code as never, failWith.message);
        return;
      }
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      stream.end(frameMessage(Buffer.from(request).reverse()));
    });
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hpgrpcwire-"));
    oursPath = join(dir, "ours.sock");
    ours = createServer();
    ours.on("stream", serveOurs);
    await new Promise<void>((resolve) => ours.listen(oursPath, resolve));
    client = new grpc.Client(`unix:${oursPath}`, grpc.credentials.createInsecure());

    theirsPath = join(dir, "theirs.sock");
    theirs = new grpc.Server();
    theirs.register<Buffer, Buffer>(
      "/test/Echo",
      (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        const deadline = call.getDeadline();
        const at = deadline instanceof Date ? deadline.getTime() : deadline;
        callback(null, Buffer.from(JSON.stringify({ request: call.request.toString("hex"), deadlineIn: Number.isFinite(at) ? at - Date.now() : null })));
      },
      identity,
      identity,
      "unary",
    );
    theirs.register<Buffer, Buffer>("/test/Fail", (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback({ code: grpc.status.FAILED_PRECONDITION, details: call.request.toString("utf8") }), identity, identity, "unary");
    await new Promise<void>((resolve, reject) => theirs.bindAsync(`unix:${theirsPath}`, grpc.ServerCredentials.createInsecure(), (error) => (error ? reject(error) : resolve())));
  });

  afterAll(async () => {
    client?.close();
    theirs?.forceShutdown();
    await new Promise<void>((resolve) => (ours ? ours.close(() => resolve()) : resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  const call = (path: string, request: Buffer, options: grpc.CallOptions = {}, with_: grpc.Client = client): Promise<Buffer> =>
    new Promise((resolve, reject) => with_.makeUnaryRequest(path, identity, identity, request, new grpc.Metadata(), options, (error, reply) => (error ? reject(error) : resolve(reply!))));

  it("grpc-js's request frame is one message unframeSingle reads, and our reply frame is one grpc-js reads", async () => {
    const reply = await call("/test/Echo", Buffer.from([1, 2, 3, 0, 255]));
    expect([...reply]).toEqual([255, 0, 3, 2, 1]);
    expect([...seen.at(-1)!.request]).toEqual([1, 2, 3, 0, 255]);
  });

  it("grpc-js's gzip-compressed request is inflated by unframeSingle", async () => {
    const gzipClient = new grpc.Client(`unix:${oursPath}`, grpc.credentials.createInsecure(), { "grpc.default_compression_algorithm": grpc.compressionAlgorithms.gzip });
    try {
      const request = Buffer.from("compress me ".repeat(100));
      await call("/test/Echo", request, {}, gzipClient);
      const last = seen.at(-1)!;
      expect(last.headers["grpc-encoding"]).toBe("gzip");
      expect(last.request.equals(request)).toBe(true);
    } finally {
      gzipClient.close();
    }
  });

  it("grpc-js's grpc-timeout parses to the deadline it was given", async () => {
    await call("/test/Echo", Buffer.from("x"), { deadline: Date.now() + 5_000 });
    const ms = parseGrpcTimeout(seen.at(-1)!.headers["grpc-timeout"]);
    expect(ms).toBeGreaterThan(4_000);
    expect(ms).toBeLessThanOrEqual(5_000);
  });

  it.each([
    ["non-ASCII text and newlines", 'plugin "policy" failed: naïve mount /données\nsecond line: 日本語 🙂'],
    ["percent signs", "memory 100% used; %41 is not an escape here; 50%"],
    ["characters encodeURI leaves alone", "a/b?c#d&e=f;g:h@i"],
  ])("a status message with %s reaches a grpc-js client exactly", async (_what, message) => {
    failWith.message = message;
    const error = (await call("/test/Fail", Buffer.from("x")).then(
      () => {
        throw new Error("the call succeeded");
      },
      (e: unknown) => e,
    )) as grpc.ServiceError;
    expect(error.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(error.details).toBe(message);
  });

  it("a grpc-js server's status message with non-ASCII text, newlines and % reaches CriUpstream exactly", async () => {
    const upstream = new CriUpstream(`unix://${theirsPath}`);
    try {
      const message = "image naïve:1 not found\nretry: 100% 日本語 a/b#c";
      const error = (await upstream.unary("/test/Fail", Buffer.from(message)).catch((e: unknown) => e)) as CriStatusError;
      expect(error).toBeInstanceOf(CriStatusError);
      expect(error.code).toBe(GrpcStatus.FAILED_PRECONDITION);
      expect(error.message).toBe(`/test/Fail: ${message}`);
    } finally {
      upstream.close();
    }
  });

  it("CriUpstream's frame and grpc-timeout reach a grpc-js server as sent", async () => {
    const upstream = new CriUpstream(theirsPath);
    try {
      const reply = JSON.parse((await upstream.unary("/test/Echo", Buffer.from([9, 8, 7]), { timeoutMs: 30_000 })).toString()) as { request: string; deadlineIn: number };
      expect(reply.request).toBe("090807");
      expect(reply.deadlineIn).toBeGreaterThan(25_000);
      expect(reply.deadlineIn).toBeLessThanOrEqual(30_000);
    } finally {
      upstream.close();
    }
  });
});
