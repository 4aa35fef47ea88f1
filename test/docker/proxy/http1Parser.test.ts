/**
 * The HTTP/1.1 framing parser on its own: valid requests and responses (as Docker's clients and dockerd send them),
 * malformed and adversarial input, limits, and split invariance (any cut of the input gives the same result).
 */
import { describe, expect, it } from "vitest";
import { HttpParseError } from "../../../src/docker/proxy/http1Errors.js";
import { createRequestParser, createResponseParser, ParserStateError } from "../../../src/docker/proxy/http1Parser.js";
import { cut, drive, prng, type DriveResult } from "./parserDriver.js";

const b = (text: string): Buffer => Buffer.from(text, "latin1");

/** The error a single request head gets, as [code, status]. */
function requestError(text: string | Buffer, maxHeadBytes?: number): [string, number] | undefined {
  const parser = createRequestParser(maxHeadBytes === undefined ? {} : { maxHeadBytes });
  try {
    const data = typeof text === "string" ? b(text) : text;
    let pos = 0;
    while (pos < data.length) {
      const r = parser.execute(data, pos);
      pos += r.consumed;
      if (r.complete) {
        if (pos < data.length) parser.reset();
        else break;
      }
    }
    return undefined;
  } catch (error) {
    if (error instanceof HttpParseError) return [error.code, error.status];
    throw error;
  }
}

function responseError(text: string, method = "GET"): string | undefined {
  const r = drive("response", [b(text)], { methods: [method], finish: true });
  return r.error;
}

/** Every way of cutting `data` in two, and byte by byte, must give the unsplit result. */
function expectSplitInvariant(kind: "request" | "response", data: Buffer, options: { methods?: readonly string[]; maxHeadBytes?: number; finish?: boolean } = {}): DriveResult {
  const whole = drive(kind, [data], options);
  for (let at = 1; at < data.length; at++) {
    const split = drive(kind, cut(data, [at]), options);
    if (JSON.stringify(split) !== JSON.stringify(whole)) expect({ cutAt: at, ...split }).toEqual({ cutAt: at, ...whole });
  }
  const bytes = drive(kind, cut(data, Array.from({ length: Math.max(0, data.length - 1) }, (_, i) => i + 1)), options);
  expect(bytes).toEqual(whole);
  return whole;
}

describe("request heads", () => {
  it("parses a request line, its fields and keep-alive, and gives the exact head bytes", () => {
    const head = "GET /v1.41/containers/json?all=1 HTTP/1.1\r\nHost: api.moby.localhost\r\nUser-Agent: Docker-Client/28.2.2 (linux)\r\n\r\n";
    const parser = createRequestParser();
    const r = parser.execute(b(head));
    expect(r).toMatchObject({ consumed: head.length, complete: true });
    expect(r.head).toMatchObject({ kind: "request", method: "GET", target: "/v1.41/containers/json?all=1", version: "1.1", keepAlive: true, body: { kind: "none" } });
    expect(r.head?.fields).toEqual([["Host", "api.moby.localhost"], ["User-Agent", "Docker-Client/28.2.2 (linux)"]]);
    expect(r.head?.raw.toString("latin1")).toBe(head);
  });

  it("accepts a request without Host and one with an empty Host (Docker's Go client on UNIX sockets)", () => {
    expect(requestError("GET /_ping HTTP/1.1\r\n\r\n")).toBeUndefined();
    expect(requestError("HEAD /_ping HTTP/1.1\r\nHost: \r\n\r\n")).toBeUndefined();
  });

  it("trims whitespace around field values and keeps obs-text bytes as they are", () => {
    const r = createRequestParser().execute(b("GET / HTTP/1.1\r\nX-A: \t v a l \t\r\nX-B: caf\xe9\r\n\r\n"));
    expect(r.head?.fields).toEqual([["X-A", "v a l"], ["X-B", "caf\xe9"]]);
  });

  it("skips empty lines before the request line (RFC 9112 section 2.2) without counting them in the head", () => {
    const r = drive("request", [b("\r\n\r\nGET / HTTP/1.1\r\n\r\n")]);
    expect(r.messages).toHaveLength(1);
    expect(Buffer.from(r.messages[0]!.wire, "hex").toString("latin1")).toBe("GET / HTTP/1.1\r\n\r\n");
  });

  it("reads HTTP/1.0 as close unless it asks for keep-alive, and HTTP/1.1 as keep-alive unless it asks to close", () => {
    const keep = (text: string): boolean | undefined => createRequestParser().execute(b(text)).head?.keepAlive;
    expect(keep("GET / HTTP/1.0\r\n\r\n")).toBe(false);
    expect(keep("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")).toBe(true);
    expect(keep("GET / HTTP/1.1\r\nConnection: upgrade, close\r\n\r\n")).toBe(false);
    expect(keep("POST /exec/x/start HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n")).toBe(true);
  });

  it("stops right after the head, so the caller acts on it before any body byte", () => {
    const data = b("POST /images/load HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello");
    const parser = createRequestParser();
    const first = parser.execute(data);
    expect(first.head?.body).toEqual({ kind: "length", length: 5 });
    expect(first.consumed).toBe(data.length - 5);
    expect(first.complete).toBe(false);
    const second = parser.execute(data, first.consumed);
    expect(second).toEqual({ consumed: 5, head: undefined, complete: true });
  });

  it("treats Content-Length: 0 (and leading zeros) as a length, not as an error", () => {
    expect(createRequestParser().execute(b("POST /x HTTP/1.1\r\nContent-Length: 0\r\n\r\n")).complete).toBe(true);
    expect(createRequestParser().execute(b("POST /x HTTP/1.1\r\nContent-Length: 007\r\n\r\n")).head?.body).toEqual({ kind: "length", length: 7 });
  });
});

describe("malformed request heads", () => {
  const cases: [string, string, string, number][] = [
    ["a bare LF ending the request line", "GET / HTTP/1.1\nHost: x\r\n\r\n", "BARE_LF", 400],
    ["a bare LF ending a field line", "GET / HTTP/1.1\r\nHost: x\n\r\n", "BARE_LF", 400],
    ["a bare LF as the empty line", "GET / HTTP/1.1\r\nHost: x\r\n\n", "BARE_LF", 400],
    ["a CR inside a field value", "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", "BARE_CR", 400],
    ["a CR inside the request line", "GET /a\rb HTTP/1.1\r\n\r\n", "BARE_CR", 400],
    ["obs-fold (a continuation line)", "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", "OBS_FOLD", 400],
    ["whitespace between the request line and the first field", "GET / HTTP/1.1\r\n Host: x\r\n\r\n", "OBS_FOLD", 400],
    ["whitespace before the colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", "INVALID_FIELD_NAME", 400],
    ["a field name with a non-token character", "GET / HTTP/1.1\r\nX@Y: 1\r\n\r\n", "INVALID_FIELD_NAME", 400],
    ["an empty field name", "GET / HTTP/1.1\r\n: 1\r\n\r\n", "INVALID_FIELD_NAME", 400],
    ["a field line without a colon", "GET / HTTP/1.1\r\nHost\r\n\r\n", "INVALID_FIELD_LINE", 400],
    ["a NUL in a field value", "GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n", "INVALID_FIELD_VALUE", 400],
    ["DEL in a field value", "GET / HTTP/1.1\r\nX: a\x7fb\r\n\r\n", "INVALID_FIELD_VALUE", 400],
    ["a method with a non-token character", "GE(T / HTTP/1.1\r\n\r\n", "INVALID_METHOD", 400],
    ["two spaces in the request line", "GET  / HTTP/1.1\r\n\r\n", "INVALID_REQUEST_LINE", 400],
    ["a request line without a version", "GET /\r\n\r\n", "INVALID_REQUEST_LINE", 400],
    ["a lower-case protocol name", "GET / http/1.1\r\n\r\n", "INVALID_REQUEST_LINE", 400],
    ["a target with a non-ASCII byte", "GET /caf\xe9 HTTP/1.1\r\n\r\n", "INVALID_TARGET", 400],
    ["HTTP/2.0", "GET / HTTP/2.0\r\n\r\n", "UNSUPPORTED_VERSION", 505],
    ["two Content-Length fields, even equal", "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", "MULTIPLE_CONTENT_LENGTH", 400],
    ["a Content-Length list", "POST / HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\nx", "MULTIPLE_CONTENT_LENGTH", 400],
    ["conflicting Content-Length fields", "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx", "MULTIPLE_CONTENT_LENGTH", 400],
    ["a signed Content-Length", "POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\nx", "INVALID_CONTENT_LENGTH", 400],
    ["a negative Content-Length", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "INVALID_CONTENT_LENGTH", 400],
    ["a Content-Length beyond 15 digits", "POST / HTTP/1.1\r\nContent-Length: 1234567890123456\r\n\r\n", "INVALID_CONTENT_LENGTH", 400],
    ["Content-Length with Transfer-Encoding", "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "CONTENT_LENGTH_WITH_TRANSFER_ENCODING", 400],
    ["a final transfer coding that is not chunked", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", "TRANSFER_ENCODING_NOT_CHUNKED", 400],
    ["chunked before another coding", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", "INVALID_TRANSFER_ENCODING", 400],
    ["chunked applied twice", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", "INVALID_TRANSFER_ENCODING", 400],
    ["an empty Transfer-Encoding", "POST / HTTP/1.1\r\nTransfer-Encoding: \r\n\r\n", "INVALID_TRANSFER_ENCODING", 400],
    ["Transfer-Encoding in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", "INVALID_TRANSFER_ENCODING", 400],
  ];
  for (const [what, text, code, status] of cases) {
    it(`refuses ${what} with ${code} (${status})`, () => {
      expect(requestError(text)).toEqual([code, status]);
    });
  }

  it("accepts a head of exactly maxHeadBytes and refuses one byte more with 431", () => {
    const head = (size: number): string => {
      const start = "GET / HTTP/1.1\r\nX: ";
      return `${start}${"a".repeat(size - start.length - 4)}\r\n\r\n`;
    };
    expect(head(1000)).toHaveLength(1000);
    expect(requestError(head(1000), 1000)).toBeUndefined();
    expect(requestError(head(1001), 1000)).toEqual(["HEAD_TOO_LARGE", 431]);
  });

  it("refuses a 64 KiB head with 431 by default, before seeing its end", () => {
    const parser = createRequestParser();
    parser.execute(b("GET / HTTP/1.1\r\nX: "));
    expect(() => parser.execute(Buffer.alloc(70 * 1024, 0x61))).toThrow(expect.objectContaining({ code: "HEAD_TOO_LARGE", status: 431 }));
  });

  it("counts empty lines before the request line against the head limit", () => {
    expect(requestError("\r\n".repeat(600) + "GET / HTTP/1.1\r\n\r\n", 1000)).toEqual(["HEAD_TOO_LARGE", 431]);
  });

  it("keeps throwing the first error once it failed", () => {
    const parser = createRequestParser();
    expect(() => parser.execute(b("GET / HTTP/1.1\n"))).toThrow(HttpParseError);
    expect(() => parser.execute(b("GET / HTTP/1.1\r\n\r\n"))).toThrow(expect.objectContaining({ code: "BARE_LF" }));
    expect(parser.phase).toBe("failed");
  });

  it("refuses to parse past a complete message until reset", () => {
    const parser = createRequestParser();
    expect(parser.execute(b("GET / HTTP/1.1\r\n\r\n")).complete).toBe(true);
    expect(() => parser.execute(b("GET / HTTP/1.1\r\n\r\n"))).toThrow(ParserStateError);
    parser.reset();
    expect(parser.execute(b("GET /b HTTP/1.1\r\n\r\n")).head?.target).toBe("/b");
  });
});

describe("request bodies", () => {
  it("decodes a chunked body with extensions and trailers and attributes every byte to the message", () => {
    const data = b('POST /images/load HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value;q="a \\"b\\""\r\nhello\r\n6 ; x = y\r\n world\r\n0\r\nX-Checksum: abc\r\n\r\n');
    const r = drive("request", [data]);
    expect(r.error).toBeUndefined();
    expect(r.messages).toHaveLength(1);
    expect(Buffer.from(r.messages[0]!.body, "hex").toString()).toBe("hello world");
    expect(r.messages[0]!.trailers).toEqual(["X-Checksum=abc"]);
    expect(r.messages[0]!.wire).toBe(data.toString("hex"));
    expect(r.messages[0]!.complete).toBe(true);
  });

  it("leaves the bytes of the next pipelined request unconsumed", () => {
    const first = "POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
    const data = b(`${first}GET /b HTTP/1.1\r\n\r\n`);
    const parser = createRequestParser();
    const head = parser.execute(data);
    const body = parser.execute(data, head.consumed);
    expect(head.consumed + body.consumed).toBe(first.length);
    expect(body.complete).toBe(true);
  });

  it("reads three pipelined requests of each framing", () => {
    const data = b(
      "GET /a HTTP/1.1\r\n\r\n" +
        "POST /b HTTP/1.1\r\nContent-Length: 4\r\n\r\n\r\n\r\n" +
        "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n\r\n\r\n0\r\n\r\n",
    );
    const r = drive("request", [data]);
    expect(r.messages.map((m) => [m.head.split(" |")[0], m.framing, Buffer.from(m.body, "hex").toString()])).toEqual([
      ["GET /a HTTP/1.1", "none", ""],
      ["POST /b HTTP/1.1", "length", "\r\n\r\n"],
      ["POST /c HTTP/1.1", "chunked", "\r\n"],
    ]);
    expect(r.messages.map((m) => m.wire).join("")).toBe(data.toString("hex"));
  });

  const bad: [string, string, string][] = [
    ["a chunk size that is not hex", "zz\r\n", "INVALID_CHUNK_SIZE"],
    ["a chunk size of 17 hex digits", "10000000000000000\r\n", "INVALID_CHUNK_SIZE"],
    ["a chunk size above 2^53", "FFFFFFFFFFFFFFFF\r\n", "INVALID_CHUNK_SIZE"],
    ["an empty chunk size", "\r\n", "INVALID_CHUNK_SIZE"],
    ["a chunk extension without a name", "1;=x\r\n", "INVALID_CHUNK_EXTENSION"],
    ["an unterminated quoted extension", '1;a="x\r\n', "INVALID_CHUNK_EXTENSION"],
    ["whitespace after the chunk size", "1 \r\nx\r\n", "INVALID_CHUNK_EXTENSION"],
    ["chunk data not followed by CRLF", "1\r\nxy\r\n", "INVALID_CHUNK_END"],
    ["chunk data followed by LF alone", "1\r\nx\n0\r\n\r\n", "INVALID_CHUNK_END"],
    ["a chunk-size line ending in LF alone", "1\nx\r\n", "BARE_LF"],
    ["a bare CR in a chunk-size line", "1\r;a\r\n", "BARE_CR"],
    ["obs-fold in the trailers", "0\r\nX: a\r\n b\r\n\r\n", "OBS_FOLD"],
    ["a trailer line without a colon", "0\r\nnope\r\n\r\n", "INVALID_FIELD_LINE"],
    ["a chunk-size line longer than 16 KiB", `1;a=${"b".repeat(17 * 1024)}\r\n`, "CHUNK_LINE_TOO_LONG"],
    ["trailers larger than the head limit", `0\r\n${"X: y\r\n".repeat(20 * 1024)}\r\n`, "TRAILERS_TOO_LARGE"],
  ];
  for (const [what, body, code] of bad) {
    it(`refuses ${what} (${code})`, () => {
      expect(requestError(`POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n${body}`)?.[0]).toBe(code);
    });
  }

  it("reports a body cut short at the end of the input as TRUNCATED, and a clean end as no message", () => {
    const parser = createRequestParser();
    parser.execute(b("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n"));
    parser.execute(b("abc"));
    expect(() => parser.finish()).toThrow(expect.objectContaining({ code: "TRUNCATED" }));
    expect(createRequestParser().finish()).toBe(false);
    const half = createRequestParser();
    half.execute(b("GET / HT"));
    expect(() => half.finish()).toThrow(expect.objectContaining({ code: "TRUNCATED" }));
  });

  it("gives the tap views of the input, not copies, for a Content-Length body", () => {
    const seen: Buffer[] = [];
    const parser = createRequestParser({ onBody: (d) => seen.push(d) });
    const data = b("PUT /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
    const head = parser.execute(data);
    parser.execute(data, head.consumed);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.buffer).toBe(data.buffer);
    expect(parser.bodyBytes).toBe(3);
  });
});

describe("responses", () => {
  it("reads dockerd's 101 UPGRADED for attach and leaves the stream bytes after it unconsumed", () => {
    const head = "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n";
    const r = drive("response", [b(`${head}\x01\x00\x00\x00\x00\x00\x00\x03hi\n`)], { methods: ["POST"] });
    expect(r.messages).toHaveLength(1);
    expect(r.messages[0]).toMatchObject({ framing: "none", complete: true });
    expect(Buffer.from(r.rest, "hex").toString("latin1")).toBe("\x01\x00\x00\x00\x00\x00\x00\x03hi\n");
    const parsed = createResponseParser().execute(b(head)).head;
    expect(parsed).toMatchObject({ status: 101, reason: "UPGRADED", switchesProtocols: true, interim: false });
  });

  it("reads dockerd's older hijack answer (200 raw-stream, no length) as delimited by the close", () => {
    const parser = createResponseParser();
    parser.reset("POST");
    const r = parser.execute(b("HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\nraw"));
    expect(r.head?.body).toEqual({ kind: "until-close" });
    expect(r.head?.keepAlive).toBe(false);
    expect(r.complete).toBe(false);
    expect(parser.execute(b("raw")).consumed).toBe(3);
    expect(parser.finish()).toBe(true);
  });

  it("gives a HEAD response no body, whatever its Content-Length says", () => {
    const r = drive("response", [b("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nApi-Version: 1.41\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK")], { methods: ["HEAD", "GET"] });
    expect(r.messages.map((m) => [m.framing, Buffer.from(m.body, "hex").toString()])).toEqual([
      ["none", ""],
      ["length", "OK"],
    ]);
  });

  it("reads 1xx interim responses, then the final response of the same request", () => {
    const r = drive("response", [b("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}")], { methods: ["POST"] });
    expect(r.messages.map((m) => m.head.split(" |")[0])).toEqual(["HTTP/1.1 100 Continue", "HTTP/1.1 102 Processing", "HTTP/1.1 201 Created"]);
    expect(r.messages.every((m) => m.complete)).toBe(true);
  });

  it("gives 204 and 304 no body, even with a Content-Length", () => {
    const r = drive("response", [b("HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n")], { methods: ["POST", "GET"] });
    expect(r.messages.map((m) => m.framing)).toEqual(["none", "none"]);
    expect(r.rest).toBe("");
  });

  it("streams a chunked response (docker logs -f) piece by piece as its chunks arrive", () => {
    const seen: string[] = [];
    const parser = createResponseParser({ onBody: (d) => seen.push(d.toString()) });
    parser.execute(b("HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nTransfer-Encoding: chunked\r\n\r\n"));
    parser.execute(b("4\r\none\n\r\n"));
    expect(seen).toEqual(["one\n"]);
    parser.execute(b("4\r\ntwo\n\r\n"));
    expect(seen).toEqual(["one\n", "two\n"]);
    expect(parser.execute(b("0\r\n\r\n")).complete).toBe(true);
  });

  it("reads a final transfer coding other than chunked as delimited by the close", () => {
    const parser = createResponseParser();
    expect(parser.execute(b("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n")).head?.body).toEqual({ kind: "until-close" });
  });

  it("answers a 2xx to CONNECT as a switch of protocols", () => {
    const parser = createResponseParser();
    parser.reset("CONNECT");
    expect(parser.execute(b("HTTP/1.1 200 Connection established\r\n\r\n")).head).toMatchObject({ switchesProtocols: true, body: { kind: "none" } });
  });

  it("accepts a status line without a reason phrase, with or without its space", () => {
    expect(responseError("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n")).toBeUndefined();
    expect(responseError("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n")).toBeUndefined();
  });

  const bad: [string, string, string][] = [
    ["a four-digit status", "HTTP/1.1 2000 OK\r\n\r\n", "INVALID_STATUS_LINE"],
    ["a two-digit status", "HTTP/1.1 20 OK\r\n\r\n", "INVALID_STATUS_LINE"],
    ["a status below 100", "HTTP/1.1 099 Low\r\n\r\n", "INVALID_STATUS_LINE"],
    ["an empty line before the status line", "\r\nHTTP/1.1 200 OK\r\n\r\n", "INVALID_STATUS_LINE"],
    ["Content-Length with Transfer-Encoding", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", "CONTENT_LENGTH_WITH_TRANSFER_ENCODING"],
    ["two Content-Length fields", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", "MULTIPLE_CONTENT_LENGTH"],
    ["a body cut short", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", "TRUNCATED"],
    ["a chunked body cut short", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", "TRUNCATED"],
  ];
  for (const [what, text, code] of bad) {
    it(`refuses ${what} (${code})`, () => {
      expect(responseError(text)).toBe(code);
    });
  }
});

describe("split invariance", () => {
  const requests = b(
    "\r\nGET /v1.41/containers/json HTTP/1.1\r\nHost: api.moby.localhost\r\n\r\n" +
      "POST /v1.41/containers/create?name=c1 HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r\n{\"Image\":\"bb\"}" +
      'POST /v1.41/images/load HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;a=b;c="d"\r\n\r\n\r\r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n' +
      "POST /v1.41/containers/c1/attach?stream=1 HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n",
  );
  const responses = b(
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]" +
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 10\r\n\r\n{\"Id\":\"x\"}" +
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n3;ext\r\n\r\n\n\r\n0\r\n\r\n" +
      "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n" +
      "HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n\x01\x00\x00\x00\x00\x00\x00\x02hi",
  );

  it("gives the same messages for requests cut at every byte offset, and fed one byte at a time", () => {
    const whole = expectSplitInvariant("request", requests);
    expect(whole.messages).toHaveLength(4);
    expect(whole.error).toBeUndefined();
    expect(whole.messages.map((m) => m.wire).join("")).toBe(requests.subarray(2).toString("hex"));
  });

  it("gives the same messages for responses cut at every byte offset (HEAD, 100, chunked, 101 with stream bytes)", () => {
    const whole = expectSplitInvariant("response", responses, { methods: ["GET", "POST", "GET", "HEAD", "POST"] });
    expect(whole.messages.map((m) => m.head.split(" ")[1])).toEqual(["200", "100", "201", "200", "200", "101"]);
    expect(Buffer.from(whole.rest, "hex").toString("latin1")).toBe("\x01\x00\x00\x00\x00\x00\x00\x02hi");
  });

  it("finds a bare LF at every cut, also when its line began in an earlier piece", () => {
    expect(expectSplitInvariant("request", b("GET / HTTP/1.1\r\nX-Long-Field: value\n\r\n")).error).toBe("BARE_LF");
    expect(expectSplitInvariant("request", b("GET / HTTP/1.1\r\nX: 1\r\n\n")).error).toBe("BARE_LF");
  });

  it("gives the same error for malformed input cut at every byte offset", () => {
    const whole = expectSplitInvariant("request", b("GET / HTTP/1.1\r\nContent-Length: 2\r\n\r\nabPOST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxy"), { finish: true });
    expect(whole.messages).toHaveLength(1);
    expect(whole.error).toBe("INVALID_CHUNK_END");
  });
});

describe("fuzz", () => {
  const tokenChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~";

  function randomMessageStream(rand: () => number): { data: Buffer; methods: string[]; kind: "request" | "response" } {
    const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
    const token = (n: number): string => Array.from({ length: 1 + Math.floor(rand() * n) }, () => pick([...tokenChars])).join("");
    const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: Math.floor(rand() * n) }, () => pick([0x0d, 0x0a, 0x30, 0x00, 0xff, 0x41, Math.floor(rand() * 256)])));
    const kind = rand() < 0.5 ? "request" : "response";
    const parts: Buffer[] = [];
    const methods: string[] = [];
    const count = 1 + Math.floor(rand() * 4);
    for (let i = 0; i < count; i++) {
      const fields = Array.from({ length: Math.floor(rand() * 4) }, () => `${token(8)}:${pick(["", " ", "\t"])}${token(6)}${pick(["", " "])}\r\n`).join("");
      const body = bytes(40);
      const framing = pick(["length", "chunked", "none"] as const);
      let frame = "";
      let payload: Buffer = Buffer.alloc(0);
      if (framing === "length") {
        frame = `Content-Length: ${body.length}\r\n`;
        payload = body;
      } else if (framing === "chunked") {
        frame = "Transfer-Encoding: chunked\r\n";
        const pieces: Buffer[] = [];
        let at = 0;
        while (at < body.length) {
          const n = 1 + Math.floor(rand() * (body.length - at));
          const ext = rand() < 0.3 ? `;${token(4)}=${rand() < 0.5 ? token(4) : '"q \\" v"'}` : "";
          pieces.push(Buffer.from(`${n.toString(16)}${ext}\r\n`), body.subarray(at, at + n), Buffer.from("\r\n"));
          at += n;
        }
        pieces.push(Buffer.from(`0\r\n${rand() < 0.3 ? `${token(5)}: ${token(5)}\r\n` : ""}\r\n`));
        payload = Buffer.concat(pieces);
      }
      if (kind === "request") {
        const method = pick(["GET", "POST", "PUT", "DELETE"]);
        const minor = framing === "chunked" ? "1" : pick(["0", "1"]); // chunked requests need HTTP/1.1
        parts.push(Buffer.from(`${method} /${token(10)}?${token(5)}=${token(5)} HTTP/1.${minor}\r\n${fields}${frame}\r\n`, "latin1"), payload);
      } else {
        const method = pick(["GET", "POST", "HEAD"]);
        methods.push(method);
        const status = pick([200, 201, 204, 304, 404, 500]);
        if (rand() < 0.2) parts.push(Buffer.from("HTTP/1.1 100 Continue\r\n\r\n"));
        const sendsBody = method !== "HEAD" && status !== 204 && status !== 304;
        const f = framing === "none" ? "Content-Length: 0\r\n" : frame;
        parts.push(Buffer.from(`HTTP/1.1 ${status} ${token(6)}\r\n${fields}${f}\r\n`, "latin1"), sendsBody && framing !== "none" ? payload : Buffer.alloc(0));
      }
    }
    return { data: Buffer.concat(parts), methods, kind };
  }

  it("parses 300 random valid message streams identically under random cuts, and attributes every byte", () => {
    const rand = prng(20261206);
    for (let i = 0; i < 300; i++) {
      const { data, methods, kind } = randomMessageStream(rand);
      const whole = drive(kind, [data], { methods, finish: true });
      expect(whole.error, `stream ${i}: ${data.toString("latin1")}`).toBeUndefined();
      expect(whole.messages.map((m) => m.wire).join("")).toBe(data.toString("hex"));
      for (let j = 0; j < 8; j++) {
        const cuts = [...new Set(Array.from({ length: 1 + Math.floor(rand() * 12) }, () => 1 + Math.floor(rand() * (data.length - 1))))].sort((x, y) => x - y);
        expect(drive(kind, cut(data, cuts), { methods, finish: true }), `stream ${i}, cuts ${cuts.join(",")}`).toEqual(whole);
      }
    }
  });

  it("gives the same outcome under random cuts for 1,000 randomly mutated streams, and never throws anything but HttpParseError", () => {
    const rand = prng(7);
    let errors = 0;
    for (let i = 0; i < 1000; i++) {
      const { data, methods, kind } = randomMessageStream(rand);
      const mutated = Buffer.from(data);
      for (let k = 0; k < 1 + Math.floor(rand() * 3); k++) {
        mutated[Math.floor(rand() * mutated.length)] = [0x0d, 0x0a, 0x20, 0x3a, 0x30, 0x3b, 0x00, Math.floor(rand() * 256)][Math.floor(rand() * 8)]!;
      }
      const options = { methods, finish: true, maxHeadBytes: 128 };
      const whole = drive(kind, [mutated], options);
      if (whole.error) errors += 1;
      const cuts = [...new Set(Array.from({ length: 1 + Math.floor(rand() * 6) }, () => 1 + Math.floor(rand() * (mutated.length - 1))))].sort((x, y) => x - y);
      expect(drive(kind, cut(mutated, cuts), options), `stream ${i}: ${mutated.toString("hex")} cuts ${cuts.join(",")}`).toEqual(whole);
    }
    // the mutations must actually break many streams, or this test proves little
    expect(errors).toBeGreaterThan(300);
  });
});
