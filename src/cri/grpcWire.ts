/**
 * gRPC over HTTP/2 as the relay needs it: status codes, the 5-byte message frame, `grpc-timeout`, `grpc-message`.
 */
import { kMaxLength } from "node:buffer";
import { gunzipSync, inflateSync } from "node:zlib";

/** The gRPC status codes the relay answers with itself. */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  FAILED_PRECONDITION: 9,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

/** A gRPC status code number. */
export type GrpcStatusCode = (typeof GrpcStatus)[keyof typeof GrpcStatus];

/** The name of a status code the relay answers with (`FAILED_PRECONDITION`), or the number for others. */
export function grpcStatusName(code: number): string {
  return Object.entries(GrpcStatus).find(([, value]) => value === code)?.[0] ?? String(code);
}

/** An error the relay answers a call with: a gRPC status code and its message. */
export class CriStatusError extends Error {
  override name = "CriStatusError";
  /** The gRPC status code. */
  readonly code: GrpcStatusCode;

  /** An error answered as `code` with `message`. */
  constructor(code: GrpcStatusCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** `message` as a `grpc-message` header value: percent-encoded UTF-8 outside printable ASCII, and `%`. */
export function encodeGrpcMessage(message: string): string {
  let out = "";
  for (const byte of Buffer.from(message, "utf8")) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** The text of a `grpc-message` header value. */
export function decodeGrpcMessage(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

const timeoutUnits: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 0.001, n: 0.000001 };

/** Milliseconds of a `grpc-timeout` value (`100m`, `5S`, ...), or undefined when absent or malformed. */
export function parseGrpcTimeout(value: string | string[] | undefined): number | undefined {
  if (typeof value !== "string") return undefined;
  const match = /^(\d{1,8})([HMSmun])$/.exec(value);
  return match ? Number(match[1]) * timeoutUnits[match[2]!]! : undefined;
}

/** A `grpc-timeout` value for `ms` milliseconds (at least 1 ms: a deadline that has passed fails at the runtime). */
export function formatGrpcTimeout(ms: number): string {
  const whole = Math.max(1, Math.ceil(ms));
  return whole < 1e8 ? `${whole}m` : `${Math.min(99_999_999, Math.ceil(whole / 1000))}S`;
}

/** `payload` in a gRPC frame: flag 0 (not compressed), 4-byte length, payload. */
export function frameMessage(payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(5 + payload.length);
  frame[0] = 0;
  frame.writeUInt32BE(payload.length, 1);
  frame.set(payload, 5);
  return frame;
}

/**
 * The one message of a unary call's body, decompressed per `encoding` (`grpc-encoding`) when its flag says so; a
 * compressed message that inflates past `maxBytes` is refused (RESOURCE_EXHAUSTED), as is a corrupt one
 * (INVALID_ARGUMENT).
 */
export function unframeSingle(body: Buffer, encoding: string | undefined, what: string, maxBytes: number = kMaxLength): Buffer {
  if (body.length < 5) throw new CriStatusError(GrpcStatus.INVALID_ARGUMENT, `${what}: the body holds no gRPC message`);
  const length = body.readUInt32BE(1);
  if (body.length !== 5 + length) throw new CriStatusError(GrpcStatus.INVALID_ARGUMENT, `${what}: the body is not exactly one gRPC message (${body.length} bytes for a ${length}-byte message)`);
  const payload = body.subarray(5);
  if (body[0] === 0) return payload;
  if (body[0] !== 1) throw new CriStatusError(GrpcStatus.INVALID_ARGUMENT, `${what}: the message's compressed flag is ${body[0]}, not 0 or 1`);
  if (encoding !== "gzip" && encoding !== "deflate") {
    throw new CriStatusError(GrpcStatus.UNIMPLEMENTED, `${what}: compressed with ${encoding ?? "no grpc-encoding"}, which the relay cannot read; send it uncompressed, gzip or deflate`);
  }
  try {
    return (encoding === "gzip" ? gunzipSync : inflateSync)(payload, { maxOutputLength: Math.min(maxBytes, kMaxLength) });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
      throw new CriStatusError(GrpcStatus.RESOURCE_EXHAUSTED, `${what}: the ${encoding} message inflates to more than ${maxBytes} bytes (the relay's limit; raise maxMessageBytes)`);
    }
    throw new CriStatusError(GrpcStatus.INVALID_ARGUMENT, `${what}: the message is not valid ${encoding} (${(error as Error).message})`, { cause: error });
  }
}
