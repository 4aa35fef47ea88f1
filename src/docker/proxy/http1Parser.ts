/**
 * An incremental HTTP/1.1 framing parser over raw bytes, for requests and responses. It never consumes a byte past the
 * end of the current message and says how many bytes of each input chunk belong to it, so that a proxy can forward
 * the raw bytes unchanged; decoded body bytes (chunked framing removed) go to an optional tap.
 *
 * `execute` stops after a head (so the caller can act on it before any body byte) and at the end of a message; call
 * `reset` before the next message. Heads are checked by ./http1Head.ts.
 */
import { HttpParseError } from "./http1Errors.js";
import { parseFieldLine, parseRequestHead, parseResponseHead, type BodyFraming, type HeaderField, type MessageHead, type RequestHead, type ResponseHead } from "./http1Head.js";

const CR = 0x0d;
const LF = 0x0a;

/** The default limit of a head (start line, field lines, empty line), in bytes. */
export const defaultMaxHeadBytes = 64 * 1024;

/** The longest chunk-size line (size and extensions) accepted, in bytes. */
export const maxChunkLineBytes = 16 * 1024;

const CHUNK_LINE =
  /^([0-9A-Fa-f]{1,16})((?:[ \t]*;[ \t]*[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:[ \t]*=[ \t]*(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+|"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"))?)*)$/;

/** Options of a parser. */
export interface Http1ParserOptions {
  /** Largest head accepted, in bytes; also the limit of a chunked body's trailer section. Default 65536. */
  readonly maxHeadBytes?: number;
  /** Receives each piece of decoded body (a view into the input chunk: copy it to keep it). */
  readonly onBody?: (data: Buffer) => void;
}

/** What one `execute` call did. */
export interface ExecuteResult<H extends MessageHead> {
  /** How many bytes from `offset` belong to the current message (to forward unchanged). */
  readonly consumed: number;
  /** The head, when it was completed by this call (the call stops right after it). */
  readonly head: H | undefined;
  /** True when the message ended within the consumed bytes (a 101 response ends at its head). */
  readonly complete: boolean;
}

/** Where a parser is: before a message, in its head, in its body, after it. */
export type ParserPhase = "idle" | "head" | "body" | "complete" | "failed";

type ChunkState = "size" | "data" | "data-cr" | "data-lf" | "trailer";

/** Thrown when the parser is used out of order (a bug in the caller, not in the input). */
export class ParserStateError extends Error {
  override name = "ParserStateError";
}

/** Incremental HTTP/1.1 framing parser for one side of a connection; `H` is RequestHead or ResponseHead. */
export class Http1Parser<H extends MessageHead> {
  /** Requests or responses. */
  readonly kind: H["kind"];
  /** The head of the current message, once parsed (for a response after 1xx: the latest head). */
  head: H | undefined;
  /** The trailer fields of a chunked body, once complete. */
  trailers: HeaderField[] = [];
  /** Decoded body bytes of the current message so far. */
  bodyBytes = 0;

  private readonly maxHeadBytes: number;
  private readonly onBody: ((data: Buffer) => void) | undefined;
  private state: ParserPhase = "idle";
  private failure: HttpParseError | undefined;
  private requestMethod = "GET";
  // head: bytes saved from earlier chunks (copies), the unterminated line's length among them, its last byte
  private parts: Buffer[] = [];
  private partsLength = 0;
  private carried = 0;
  private lastByte = -1;
  private lines = 0;
  private skipped = 0;
  // body
  private framing: BodyFraming = { kind: "none" };
  private remaining = 0;
  private chunkState: ChunkState = "size";
  private lineParts: Buffer[] = [];
  private lineBytes = 0;
  private trailerBytes = 0;

  /** A parser of `kind` messages. */
  constructor(kind: H["kind"], options: Http1ParserOptions = {}) {
    this.kind = kind;
    this.maxHeadBytes = options.maxHeadBytes ?? defaultMaxHeadBytes;
    this.onBody = options.onBody;
  }

  /** Where the parser is. */
  get phase(): ParserPhase {
    return this.state;
  }

  /** How the current message's body is delimited (valid once the head is parsed). */
  get body(): BodyFraming {
    return this.framing;
  }

  /** Prepares for the next message; for a response parser, `requestMethod` is the method of the request it answers. */
  reset(requestMethod = "GET"): void {
    this.state = "idle";
    this.failure = undefined;
    this.requestMethod = requestMethod;
    this.head = undefined;
    this.trailers = [];
    this.bodyBytes = 0;
    this.resetHeadState();
    this.framing = { kind: "none" };
    this.remaining = 0;
    this.chunkState = "size";
    this.lineParts = [];
    this.lineBytes = 0;
    this.trailerBytes = 0;
  }

  /**
   * Parses `chunk` from `offset` (to `end`); throws HttpParseError for bad input (and keeps throwing it). Stops after a
   * head and at the end of the message; bytes past the message are not consumed.
   */
  execute(chunk: Buffer, offset = 0, end = chunk.length): ExecuteResult<H> {
    if (this.failure) throw this.failure;
    if (this.state === "complete") throw new ParserStateError("the message is complete: call reset() before parsing the next one");
    try {
      if (this.state === "idle" || this.state === "head") {
        const { pos, head } = this.readHead(chunk, offset, end);
        if (!head) return { consumed: pos - offset, head: undefined, complete: false };
        this.head = head;
        this.framing = head.body;
        if (head.kind === "response" && head.interim) {
          this.state = "idle";
          return { consumed: pos - offset, head, complete: false };
        }
        if (head.body.kind === "none") {
          this.state = "complete";
          return { consumed: pos - offset, head, complete: true };
        }
        this.state = "body";
        if (head.body.kind === "length") this.remaining = head.body.length;
        return { consumed: pos - offset, head, complete: false };
      }
      const pos = this.readBody(chunk, offset, end);
      return { consumed: pos - offset, head: undefined, complete: (this.state as ParserPhase) === "complete" };
    } catch (error) {
      if (error instanceof HttpParseError) {
        this.state = "failed";
        this.failure = error;
      }
      throw error;
    }
  }

  /**
   * The input ended (the peer closed its side). Returns true when that ended a message (a body delimited by the close),
   * false when no message had begun; throws HttpParseError("TRUNCATED") when a message was cut short.
   */
  finish(): boolean {
    if (this.failure) throw this.failure;
    switch (this.state) {
      case "idle":
      case "complete":
        return false;
      case "head":
        if (this.partsLength === 0) return false;
        break;
      case "body":
        if (this.framing.kind === "until-close") {
          this.state = "complete";
          return true;
        }
        break;
      default:
        break;
    }
    this.failure = new HttpParseError("TRUNCATED", "the connection closed before the end of the message");
    this.state = "failed";
    throw this.failure;
  }

  private resetHeadState(): void {
    this.parts = [];
    this.partsLength = 0;
    this.carried = 0;
    this.lastByte = -1;
    this.lines = 0;
    this.skipped = 0;
  }

  private checkHeadSize(bytes: number): void {
    if (bytes > this.maxHeadBytes) throw new HttpParseError("HEAD_TOO_LARGE", `the message head is larger than ${this.maxHeadBytes} bytes`);
  }

  private readHead(chunk: Buffer, offset: number, end: number): { pos: number; head: H | undefined } {
    if (offset < end) this.state = "head";
    let from = offset; // the current head's first byte in this chunk
    let lineStart = offset;
    let pos = offset;
    while (pos < end) {
      const lf = chunk.indexOf(LF, pos);
      if (lf < 0 || lf >= end) break;
      const lineLength = (lineStart === from ? this.carried : 0) + lf + 1 - lineStart;
      const before = lf > lineStart ? chunk[lf - 1] : lineStart === from && this.carried > 0 ? this.lastByte : -1;
      if (before !== CR) throw new HttpParseError("BARE_LF", "a line ends with LF alone (CRLF is required)");
      this.checkHeadSize(this.skipped + this.partsLength + lf + 1 - from);
      pos = lf + 1;
      if (lineLength === 2 && this.lines === 0) {
        // an empty line before the start line: skipped for requests (RFC 9112 section 2.2), refused for responses
        if (this.kind === "response") throw new HttpParseError("INVALID_STATUS_LINE", "an empty line where the status line belongs");
        this.skipped += 2;
        this.parts = [];
        this.partsLength = 0;
        this.carried = 0;
        from = pos;
        lineStart = pos;
        continue;
      }
      if (lineLength === 2) {
        const tail = chunk.subarray(from, pos);
        const raw = this.parts.length === 0 ? Buffer.from(tail) : Buffer.concat([...this.parts, tail], this.partsLength + tail.length);
        const head = (this.kind === "request" ? parseRequestHead(raw) : parseResponseHead(raw, this.requestMethod)) as H;
        this.resetHeadState();
        return { pos, head };
      }
      this.lines += 1;
      lineStart = pos;
      if (lineStart !== from) this.carried = 0;
    }
    // the head goes on in the next chunk: keep a copy of what is here
    if (end > from) {
      this.checkHeadSize(this.skipped + this.partsLength + end - from);
      this.parts.push(Buffer.from(chunk.subarray(from, end)));
      this.partsLength += end - from;
      this.carried = lineStart === from ? this.carried + end - from : end - lineStart;
      this.lastByte = chunk[end - 1]!;
    }
    return { pos: end, head: undefined };
  }

  private tap(chunk: Buffer, from: number, to: number): void {
    if (to <= from) return;
    this.bodyBytes += to - from;
    this.onBody?.(chunk.subarray(from, to));
  }

  private readBody(chunk: Buffer, offset: number, end: number): number {
    let pos = offset;
    switch (this.framing.kind) {
      case "length": {
        const n = Math.min(this.remaining, end - pos);
        this.tap(chunk, pos, pos + n);
        this.remaining -= n;
        if (this.remaining === 0) this.state = "complete";
        return pos + n;
      }
      case "until-close":
        this.tap(chunk, pos, end);
        return end;
      case "chunked":
        break;
      default:
        this.state = "complete";
        return pos;
    }
    while (pos < end && this.state !== "complete") {
      switch (this.chunkState) {
        case "data": {
          const n = Math.min(this.remaining, end - pos);
          this.tap(chunk, pos, pos + n);
          this.remaining -= n;
          pos += n;
          if (this.remaining === 0) this.chunkState = "data-cr";
          break;
        }
        case "data-cr":
          if (chunk[pos] !== CR) throw new HttpParseError("INVALID_CHUNK_END", "chunk data is not followed by CRLF");
          pos += 1;
          this.chunkState = "data-lf";
          break;
        case "data-lf":
          if (chunk[pos] !== LF) throw new HttpParseError("INVALID_CHUNK_END", "chunk data is not followed by CRLF");
          pos += 1;
          this.chunkState = "size";
          break;
        default:
          pos = this.readChunkLine(chunk, pos, end);
      }
    }
    return pos;
  }

  /** A chunk-size line or a trailer line. */
  private readChunkLine(chunk: Buffer, pos: number, end: number): number {
    const trailer = this.chunkState === "trailer";
    const limit = (taken: number): void => {
      if (trailer && this.trailerBytes + taken > this.maxHeadBytes) {
        throw new HttpParseError("TRAILERS_TOO_LARGE", `the trailer section is larger than ${this.maxHeadBytes} bytes`);
      }
      if (!trailer && taken > maxChunkLineBytes) throw new HttpParseError("CHUNK_LINE_TOO_LONG", `a chunk-size line is longer than ${maxChunkLineBytes} bytes`);
    };
    const lf = chunk.indexOf(LF, pos);
    if (lf < 0 || lf >= end) {
      limit(this.lineBytes + end - pos);
      this.lineParts.push(Buffer.from(chunk.subarray(pos, end)));
      this.lineBytes += end - pos;
      return end;
    }
    limit(this.lineBytes + lf + 1 - pos);
    const piece = chunk.subarray(pos, lf + 1);
    const line = this.lineParts.length === 0 ? piece : Buffer.concat([...this.lineParts, piece]);
    this.lineParts = [];
    this.lineBytes = 0;
    if (line.length < 2 || line[line.length - 2] !== CR) throw new HttpParseError("BARE_LF", "a line ends with LF alone (CRLF is required)");
    const text = line.toString("latin1", 0, line.length - 2);
    if (text.includes("\r")) throw new HttpParseError("BARE_CR", "a CR outside a CRLF line ending");
    if (trailer) {
      this.trailerBytes += line.length;
      if (text === "") this.state = "complete";
      else this.trailers.push(parseFieldLine(text));
      return lf + 1;
    }
    const m = CHUNK_LINE.exec(text);
    if (!m) {
      const size = /^[0-9A-Fa-f]+/.exec(text);
      if (!size || size[0].length > 16) throw new HttpParseError("INVALID_CHUNK_SIZE", `invalid chunk size line ${JSON.stringify(text.slice(0, 40))}`);
      throw new HttpParseError("INVALID_CHUNK_EXTENSION", `invalid chunk extension ${JSON.stringify(text.slice(0, 40))}`);
    }
    const size = parseInt(m[1]!, 16);
    if (!Number.isSafeInteger(size)) throw new HttpParseError("INVALID_CHUNK_SIZE", `chunk size ${m[1]} is too large`);
    if (size === 0) this.chunkState = "trailer";
    else {
      this.remaining = size;
      this.chunkState = "data";
    }
    return lf + 1;
  }
}

/** A parser of requests. */
export function createRequestParser(options?: Http1ParserOptions): Http1Parser<RequestHead> {
  return new Http1Parser<RequestHead>("request", options);
}

/** A parser of responses (call `reset(method)` before each response with the method of its request). */
export function createResponseParser(options?: Http1ParserOptions): Http1Parser<ResponseHead> {
  return new Http1Parser<ResponseHead>("response", options);
}
