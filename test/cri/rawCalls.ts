/**
 * gRPC calls with raw message bytes, for paths the CRI client has no method for (methods newer than the proto,
 * streams, a fake runtime's own paths): through grpc-js (a real gRPC client, as the kubelet's), and as one plain HTTP/2
 * request (which enforces no deadline itself, so that only the server can end it).
 */
import type { EventEmitter } from "node:events";
import { connect as connectHttp2, type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http2";
import { connect as connectSocket } from "node:net";
import * as grpc from "@grpc/grpc-js";

/** How a call through grpc-js ended. */
export interface RawOutcome {
  /** The gRPC status code. */
  readonly code: number;
  /** The status message. */
  readonly details: string;
  /** The reply messages, in order. */
  readonly messages: Buffer[];
  /** The reply's initial metadata (headers). */
  readonly initial: Record<string, unknown>;
  /** The trailing metadata. */
  readonly trailing: Record<string, unknown>;
  /** Milliseconds from the start of the call to its status. */
  readonly ms: number;
}

/** Options of one raw call. */
export interface RawCallOptions {
  /** Deadline in ms from now. */
  readonly timeoutMs?: number;
  /** Metadata sent with the call (keys ending in -bin take Buffers). */
  readonly metadata?: Record<string, string | Buffer>;
  /** Cancels the call when aborted. */
  readonly signal?: AbortSignal;
}

const identity = (b: Buffer): Buffer => b;

/** A grpc-js client for any path on the socket at `socketPath` (close it after use). */
export function rawClient(socketPath: string): grpc.Client {
  return new grpc.Client(`unix://${socketPath}`, grpc.credentials.createInsecure(), {
    "grpc.max_receive_message_length": 32 * 1024 * 1024,
    "grpc.max_send_message_length": 32 * 1024 * 1024,
  });
}

function metadataOf(options: RawCallOptions): grpc.Metadata {
  const metadata = new grpc.Metadata();
  for (const [k, v] of Object.entries(options.metadata ?? {})) metadata.set(k, v);
  return metadata;
}

function callOptionsOf(options: RawCallOptions): grpc.CallOptions {
  return options.timeoutMs !== undefined ? { deadline: Date.now() + options.timeoutMs } : {};
}

/** Follows `call` to its status; never rejects. */
function outcomeOf(call: grpc.ClientReadableStream<Buffer> | grpc.ClientUnaryCall | grpc.ClientDuplexStream<Buffer, Buffer>, messages: Buffer[], options: RawCallOptions): Promise<RawOutcome> {
  const started = Date.now();
  const events = call as unknown as EventEmitter; // every kind of call emits these
  let initial: Record<string, unknown> = {};
  events.on("metadata", (m: grpc.Metadata) => (initial = m.getMap()));
  options.signal?.addEventListener("abort", () => call.cancel(), { once: true });
  return new Promise((resolve) => {
    events.on("error", () => undefined); // the status says it
    events.on("status", (status: grpc.StatusObject) => resolve({ code: status.code, details: status.details, messages, initial, trailing: status.metadata.getMap(), ms: Date.now() - started }));
  });
}

/** A unary call of `path` with `message`. */
export function rawUnary(client: grpc.Client, path: string, message: Uint8Array, options: RawCallOptions = {}): Promise<RawOutcome> {
  const messages: Buffer[] = [];
  const call = client.makeUnaryRequest(path, identity, identity, Buffer.from(message), metadataOf(options), callOptionsOf(options), (_error, reply) => {
    if (reply) messages.push(reply);
  });
  return outcomeOf(call, messages, options);
}

/** A server-streaming call of `path` with `message`; `onMessage` sees each reply message as it comes. */
export function rawServerStream(client: grpc.Client, path: string, message: Uint8Array, options: RawCallOptions & { onMessage?: (m: Buffer) => void } = {}): Promise<RawOutcome> {
  const messages: Buffer[] = [];
  const call = client.makeServerStreamRequest(path, identity, identity, Buffer.from(message), metadataOf(options), callOptionsOf(options));
  call.on("data", (m: Buffer) => {
    messages.push(m);
    options.onMessage?.(m);
  });
  return outcomeOf(call, messages, options);
}

/** A bidirectional call of `path`: the stream to write to, and its outcome. */
export function rawBidi(client: grpc.Client, path: string, options: RawCallOptions & { onMessage?: (m: Buffer) => void } = {}): { call: grpc.ClientDuplexStream<Buffer, Buffer>; outcome: Promise<RawOutcome> } {
  const messages: Buffer[] = [];
  const call = client.makeBidiStreamRequest(path, identity, identity, metadataOf(options), callOptionsOf(options));
  call.on("data", (m: Buffer) => {
    messages.push(m);
    options.onMessage?.(m);
  });
  return { call, outcome: outcomeOf(call, messages, options) };
}

/** What one plain HTTP/2 request got: the response headers, the trailers and the body. */
export interface Http2Reply {
  readonly headers: IncomingHttpHeaders;
  readonly trailers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The gRPC status (from the trailers, or from the headers of a trailers-only reply). */
  readonly status: string | undefined;
  /** The decoded grpc-message. */
  readonly message: string;
  readonly ms: number;
}

/** One HTTP/2 POST of `body` to `path` on the socket at `socketPath`, with `headers` besides the gRPC ones. */
export async function http2Call(socketPath: string, path: string, body: Uint8Array, headers: OutgoingHttpHeaders = {}): Promise<Http2Reply> {
  const session = connectHttp2("http://localhost", { createConnection: () => connectSocket(socketPath) });
  session.on("error", () => undefined);
  const started = Date.now();
  try {
    return await new Promise<Http2Reply>((resolve, reject) => {
      const call = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers", ...headers });
      let replyHeaders: IncomingHttpHeaders = {};
      let trailers: IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      call.on("response", (h) => (replyHeaders = { ...h }));
      call.on("trailers", (t) => (trailers = { ...t }));
      call.on("data", (chunk: Buffer) => chunks.push(chunk));
      call.on("error", reject);
      call.on("close", () => {
        const status = (trailers["grpc-status"] ?? replyHeaders["grpc-status"]) as string | undefined;
        const message = decodeURIComponent(String(trailers["grpc-message"] ?? replyHeaders["grpc-message"] ?? ""));
        resolve({ headers: replyHeaders, trailers, body: Buffer.concat(chunks), status, message, ms: Date.now() - started });
      });
      call.end(body);
    });
  } finally {
    session.close();
  }
}
