/**
 * Drives the HTTP/1.1 framing parser over a byte stream cut into pieces, the way the relay does, and records what it
 * saw: each message's head, decoded body, trailers, the bytes it said belong to the message (head + raw body), and
 * the first error. Two runs over the same bytes must record the same, however the bytes were cut.
 */
import { HttpParseError } from "../../../src/docker/proxy/http1Errors.js";
import { createRequestParser, createResponseParser } from "../../../src/docker/proxy/http1Parser.js";
import type { MessageHead } from "../../../src/docker/proxy/http1Head.js";

/** One message as the parser reported it. */
export interface DrivenMessage {
  /** The start line and fields, summarised. */
  head: string;
  /** Body framing kind. */
  framing: string;
  /** The decoded body, hex. */
  body: string;
  /** The bytes the parser attributed to the message (head.raw then raw body slices), hex. */
  wire: string;
  /** Trailer fields. */
  trailers: string[];
  /** Whether the message ended (by its framing or by the end of the input for until-close). */
  complete: boolean;
}

/** What a run saw. */
export interface DriveResult {
  /** Messages in order (1xx interim responses count as messages). */
  messages: DrivenMessage[];
  /** The error code that stopped the run, if any. */
  error: string | undefined;
  /** Bytes that no message consumed (after a 101, or a head still incomplete at the end), hex; "" after an error. */
  rest: string;
}

function summary(head: MessageHead): string {
  const start = head.kind === "request" ? `${head.method} ${head.target} HTTP/${head.version}` : `HTTP/${head.version} ${head.status} ${head.reason}`;
  return `${start} | ${head.fields.map(([n, v]) => `${n}=${v}`).join(" | ")} | keepAlive=${head.keepAlive}`;
}

/**
 * Feeds `pieces` to a parser of `kind`; responses answer `methods` in turn (GET when they run out). `finish` tells
 * the parser the input ended after the last piece.
 */
export function drive(kind: "request" | "response", pieces: readonly Buffer[], options: { methods?: readonly string[]; maxHeadBytes?: number; finish?: boolean } = {}): DriveResult {
  const decoded: Buffer[] = [];
  const parserOptions = { onBody: (d: Buffer) => decoded.push(Buffer.from(d)), ...(options.maxHeadBytes !== undefined && { maxHeadBytes: options.maxHeadBytes }) };
  const parser = kind === "request" ? createRequestParser(parserOptions) : createResponseParser(parserOptions);
  const methods = [...(options.methods ?? [])];
  if (kind === "response") parser.reset(methods.shift() ?? "GET");
  const result: DriveResult = { messages: [], error: undefined, rest: "" };
  let current: DrivenMessage | undefined;
  let wire: Buffer[] = [];
  let tunnel = false;
  const close = (complete: boolean): void => {
    if (!current) return;
    current.body = Buffer.concat(decoded.splice(0)).toString("hex");
    current.wire = Buffer.concat(wire).toString("hex");
    current.trailers = parser.trailers.map(([n, v]) => `${n}=${v}`);
    current.complete = complete;
    result.messages.push(current);
    current = undefined;
    wire = [];
  };
  const rest: Buffer[] = [];
  for (const piece of pieces) {
    let pos = 0;
    while (pos < piece.length && result.error === undefined && !tunnel) {
      const inHead = parser.phase === "idle" || parser.phase === "head";
      let r;
      try {
        r = parser.execute(piece, pos);
      } catch (error) {
        if (!(error instanceof HttpParseError)) throw error;
        result.error = error.code;
        current = undefined; // what a failed message consumed depends on where the input was cut
        break;
      }
      if (r.head) {
        close(false);
        current = { head: summary(r.head), framing: r.head.body.kind, body: "", wire: "", trailers: [], complete: false };
        wire.push(r.head.raw);
      } else if (!inHead) wire.push(piece.subarray(pos, pos + r.consumed));
      pos += r.consumed;
      if (r.head?.kind === "response" && r.head.interim) {
        close(true);
        continue;
      }
      if (r.complete) {
        close(true);
        if (r.head?.kind === "response" && r.head.switchesProtocols) {
          tunnel = true;
          break;
        }
        parser.reset(methods.shift() ?? "GET");
      }
    }
    rest.push(piece.subarray(pos));
  }
  if (options.finish && result.error === undefined && !tunnel) {
    try {
      if (parser.finish()) close(true);
    } catch (error) {
      if (!(error instanceof HttpParseError)) throw error;
      result.error = error.code;
    }
  }
  close(false);
  result.rest = result.error === undefined ? Buffer.concat(rest).toString("hex") : "";
  return result;
}

/** Cuts `data` at `cuts` (sorted offsets). */
export function cut(data: Buffer, cuts: readonly number[]): Buffer[] {
  const pieces: Buffer[] = [];
  let from = 0;
  for (const at of cuts) {
    pieces.push(data.subarray(from, at));
    from = at;
  }
  pieces.push(data.subarray(from));
  return pieces;
}

/** A small seeded PRNG (mulberry32): the same seed gives the same numbers, so a failure can be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
