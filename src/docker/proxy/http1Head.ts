/**
 * HTTP/1.1 message heads (RFC 9112): the start line, the field lines and what they say about the body's framing.
 * Strict: a head that two implementations could read differently (obs-fold, whitespace before a colon, several
 * Content-Length fields, Content-Length next to Transfer-Encoding, a request whose final transfer coding is not
 * chunked) is rejected, so that the proxy and the engine behind it always agree on where a message ends.
 */
import { HttpParseError } from "./http1Errors.js";

/** HTTP/1.0 or HTTP/1.1 (any HTTP/1.x above 1.0 counts as 1.1). */
export type HttpVersion = "1.0" | "1.1";

/** How a message's body is delimited. */
export type BodyFraming =
  | { readonly kind: "none" }
  | { readonly kind: "length"; readonly length: number }
  | { readonly kind: "chunked" }
  | { readonly kind: "until-close" };

/** One field line: the name as sent, the value without surrounding whitespace (bytes as latin1 characters). */
export type HeaderField = readonly [name: string, value: string];

/** What requests and responses share. */
interface HeadCommon {
  /** The exact bytes of the head: start line, field lines and the empty line. */
  readonly raw: Buffer;
  /** The protocol version. */
  readonly version: HttpVersion;
  /** The field lines in order. */
  readonly fields: readonly HeaderField[];
  /** How the body is delimited. */
  readonly body: BodyFraming;
  /** Whether the connection may carry another message after this one (version and `Connection`). */
  readonly keepAlive: boolean;
}

/** A parsed request head. */
export interface RequestHead extends HeadCommon {
  /** Discriminant. */
  readonly kind: "request";
  /** The method, as sent (case-sensitive). */
  readonly method: string;
  /** The request target, as sent. */
  readonly target: string;
}

/** A parsed response head. */
export interface ResponseHead extends HeadCommon {
  /** Discriminant. */
  readonly kind: "response";
  /** The status code. */
  readonly status: number;
  /** The reason phrase (may be empty). */
  readonly reason: string;
  /** A 1xx response other than 101: the final response follows. */
  readonly interim: boolean;
  /** 101, or a 2xx answer to CONNECT: the connection leaves HTTP after this head. */
  readonly switchesProtocols: boolean;
}

/** A request or response head. */
export type MessageHead = RequestHead | ResponseHead;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const REQUEST_LINE = /^([^ ]+) ([^ ]+) HTTP\/(\d)\.(\d)$/;
const STATUS_LINE = /^HTTP\/(\d)\.(\d) (\d{3})(?: ([\t\x20-\x7e\x80-\xff]*))?$/;
const TARGET = /^[\x21-\x7e]+$/;

/** Whether `text` is an RFC 9110 token (method, field name, transfer coding). */
export function isToken(text: string): boolean {
  return TOKEN.test(text);
}

/** The values of every field called `name` (case-insensitive), in order. */
export function fieldValues(fields: readonly HeaderField[], name: string): string[] {
  const lower = name.toLowerCase();
  const values: string[] = [];
  for (const [n, v] of fields) if (n.length === lower.length && n.toLowerCase() === lower) values.push(v);
  return values;
}

/** The comma-separated elements of `values`, trimmed and lower-cased, empty elements dropped. */
function listTokens(values: readonly string[]): string[] {
  const tokens: string[] = [];
  for (const value of values) {
    for (const part of value.split(",")) {
      const token = part.trim().toLowerCase();
      if (token) tokens.push(token);
    }
  }
  return tokens;
}

/** The comma-separated elements of every field called `name`, trimmed and lower-cased, empty elements dropped. */
export function fieldTokens(fields: readonly HeaderField[], name: string): string[] {
  return listTokens(fieldValues(fields, name));
}

/** Parses one field line (no CRLF): `name ":" OWS value OWS`. Also used for chunked trailers. */
export function parseFieldLine(line: string): HeaderField {
  if (line.startsWith(" ") || line.startsWith("\t")) {
    throw new HttpParseError("OBS_FOLD", "a field line starts with whitespace (obs-fold is not accepted)");
  }
  const colon = line.indexOf(":");
  if (colon < 0) throw new HttpParseError("INVALID_FIELD_LINE", `a field line has no colon: ${JSON.stringify(line.slice(0, 40))}`);
  const name = line.slice(0, colon);
  if (!TOKEN.test(name)) throw new HttpParseError("INVALID_FIELD_NAME", `invalid field name ${JSON.stringify(name.slice(0, 40))}`);
  const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
  if (!FIELD_VALUE.test(value)) throw new HttpParseError("INVALID_FIELD_VALUE", `the value of ${name} holds a control character`);
  return [name, value];
}

function parseFields(lines: readonly string[]): HeaderField[] {
  const fields: HeaderField[] = [];
  for (const line of lines) fields.push(parseFieldLine(line));
  return fields;
}

function contentLength(fields: readonly HeaderField[]): number | undefined {
  const values = fieldValues(fields, "content-length");
  if (values.length === 0) return undefined;
  if (values.length > 1) throw new HttpParseError("MULTIPLE_CONTENT_LENGTH", "more than one Content-Length field");
  const value = values[0]!;
  if (!/^\d{1,15}$/.test(value)) {
    throw new HttpParseError(value.includes(",") ? "MULTIPLE_CONTENT_LENGTH" : "INVALID_CONTENT_LENGTH", `invalid Content-Length ${JSON.stringify(value.slice(0, 40))}`);
  }
  return Number(value);
}

/** The transfer codings named by Transfer-Encoding, or undefined when there is none. */
function transferCodings(fields: readonly HeaderField[]): string[] | undefined {
  const values = fieldValues(fields, "transfer-encoding");
  if (values.length === 0) return undefined;
  const codings = listTokens(values).map((c) => c.split(";")[0]!.trim());
  for (const coding of codings) {
    if (!TOKEN.test(coding)) throw new HttpParseError("INVALID_TRANSFER_ENCODING", `invalid transfer coding ${JSON.stringify(coding.slice(0, 40))}`);
  }
  if (codings.length === 0) throw new HttpParseError("INVALID_TRANSFER_ENCODING", "an empty Transfer-Encoding field");
  const chunkedAt = codings.indexOf("chunked");
  if (chunkedAt >= 0 && chunkedAt !== codings.length - 1) {
    throw new HttpParseError("INVALID_TRANSFER_ENCODING", "chunked is not the final transfer coding, or is applied twice");
  }
  return codings;
}

function keepAlive(version: HttpVersion, fields: readonly HeaderField[]): boolean {
  const connection = fieldTokens(fields, "connection");
  if (connection.includes("close")) return false;
  return version === "1.1" || connection.includes("keep-alive");
}

function version(major: string, minor: string): HttpVersion {
  if (major !== "1") throw new HttpParseError("UNSUPPORTED_VERSION", `HTTP/${major}.${minor} is not supported`);
  return minor === "0" ? "1.0" : "1.1";
}

/** Splits a complete head (ending in an empty line, every LF preceded by CR) into its lines, without the empty one. */
function headLines(raw: Buffer): string[] {
  const text = raw.toString("latin1");
  if (!text.endsWith("\r\n\r\n")) throw new HttpParseError("INVALID_HEAD", "a head must end with an empty line");
  const lines = text.slice(0, -4).split("\r\n");
  for (const line of lines) {
    if (line.includes("\n") || line.includes("\r")) throw new HttpParseError("BARE_CR", "a CR or LF outside a CRLF line ending");
  }
  return lines;
}

/** Parses a complete request head. Missing Host is allowed (Docker's clients send an empty or made-up one). */
export function parseRequestHead(raw: Buffer): RequestHead {
  const [startLine = "", ...rest] = headLines(raw);
  const m = REQUEST_LINE.exec(startLine);
  if (!m) throw new HttpParseError("INVALID_REQUEST_LINE", `invalid request line ${JSON.stringify(startLine.slice(0, 80))}`);
  const [, method = "", target = "", major = "", minor = ""] = m;
  if (!TOKEN.test(method)) throw new HttpParseError("INVALID_METHOD", `invalid method ${JSON.stringify(method.slice(0, 40))}`);
  if (!TARGET.test(target)) throw new HttpParseError("INVALID_TARGET", "the request target holds a character that is not visible ASCII");
  const v = version(major, minor);
  const fields = parseFields(rest);
  const length = contentLength(fields);
  const codings = transferCodings(fields);
  let body: BodyFraming;
  if (codings !== undefined) {
    if (length !== undefined) throw new HttpParseError("CONTENT_LENGTH_WITH_TRANSFER_ENCODING", "a request with both Content-Length and Transfer-Encoding");
    if (v === "1.0") throw new HttpParseError("INVALID_TRANSFER_ENCODING", "Transfer-Encoding in an HTTP/1.0 request");
    if (codings[codings.length - 1] !== "chunked") {
      throw new HttpParseError("TRANSFER_ENCODING_NOT_CHUNKED", "the final transfer coding of a request must be chunked");
    }
    body = { kind: "chunked" };
  } else if (length !== undefined && length > 0) {
    body = { kind: "length", length };
  } else {
    body = { kind: "none" };
  }
  return { kind: "request", raw, version: v, method, target, fields, body, keepAlive: keepAlive(v, fields) };
}

/** Parses a complete response head to a request made with `requestMethod` (HEAD and CONNECT change the framing). */
export function parseResponseHead(raw: Buffer, requestMethod: string): ResponseHead {
  const [startLine = "", ...rest] = headLines(raw);
  const m = STATUS_LINE.exec(startLine);
  if (!m) throw new HttpParseError("INVALID_STATUS_LINE", `invalid status line ${JSON.stringify(startLine.slice(0, 80))}`);
  const [, major = "", minor = "", code = "", reason = ""] = m;
  const v = version(major, minor);
  const status = Number(code);
  if (status < 100) throw new HttpParseError("INVALID_STATUS_LINE", `invalid status code ${code}`);
  const fields = parseFields(rest);
  const length = contentLength(fields);
  const codings = transferCodings(fields);
  if (codings !== undefined && length !== undefined) {
    throw new HttpParseError("CONTENT_LENGTH_WITH_TRANSFER_ENCODING", "a response with both Content-Length and Transfer-Encoding");
  }
  const interim = status < 200 && status !== 101;
  const switchesProtocols = status === 101 || (requestMethod === "CONNECT" && status >= 200 && status < 300);
  let body: BodyFraming;
  if (requestMethod === "HEAD" || status < 200 || status === 204 || status === 304 || switchesProtocols) body = { kind: "none" };
  else if (codings !== undefined) body = codings[codings.length - 1] === "chunked" ? { kind: "chunked" } : { kind: "until-close" };
  else if (length !== undefined) body = length > 0 ? { kind: "length", length } : { kind: "none" };
  else body = { kind: "until-close" };
  return {
    kind: "response",
    raw,
    version: v,
    status,
    reason,
    fields,
    body,
    keepAlive: keepAlive(v, fields) && body.kind !== "until-close",
    interim,
    switchesProtocols,
  };
}
