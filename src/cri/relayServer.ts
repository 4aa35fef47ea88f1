/**
 * The relay's HTTP/2 server: every gRPC call on every path goes to the runtime as it came (headers with the metadata
 * and `grpc-timeout`, message bytes, then the runtime's headers, messages, trailers and status back), with
 * cancellation both ways. Calls to an intercepted method are unary: the relay reads the request message, lets the
 * interceptor rewrite it (or answer with an error status, and then nothing reaches the runtime), and may hold the
 * reply until the interceptor has seen it.
 */
import { constants, createServer, type ClientHttp2Stream, type Http2Server, type Http2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import { CriStatusError, encodeGrpcMessage, formatGrpcTimeout, frameMessage, GrpcStatus, grpcStatusName, parseGrpcTimeout, unframeSingle, type GrpcStatusCode } from "./grpcWire.js";
import type { Readable, Writable } from "node:stream";
import { http2Settings, whyCallFailed, type CriUpstream } from "./upstream.js";

/** What an interceptor gets for one call. */
export interface InterceptedCall {
  /** The method's path, e.g. "/runtime.v1.RuntimeService/CreateContainer". */
  readonly path: string;
  /** The service's path prefix, e.g. "/runtime.v1.RuntimeService/" (for calls of the relay's own). */
  readonly servicePrefix: string;
  /** Aborted when the caller cancels or its deadline passes. */
  readonly signal: AbortSignal;
  /** Milliseconds left until the caller's deadline, or undefined when it set none. */
  timeLeft(): number | undefined;
}

/** What the relay does around one unary method. */
export interface Interceptor {
  /** Rewrites the request message (or returns it); throws to answer the call with an error status instead. */
  readonly request?: (payload: Buffer, call: InterceptedCall) => Promise<Uint8Array>;
  /** Sees a successful reply before the caller does; throws to answer with an error status instead. */
  readonly reply?: (request: Uint8Array, reply: Buffer, call: InterceptedCall) => Promise<void>;
}

/** Options of createRelayServer. */
export interface RelayServerOptions {
  /** The runtime. */
  readonly upstream: CriUpstream;
  /** Interceptors by method path. */
  readonly interceptors: ReadonlyMap<string, Interceptor>;
  /** The largest request message an interceptor reads, in bytes. */
  readonly maxMessageBytes: number;
  /** Turns an interceptor's failure into a status (code and message). */
  readonly statusOf: (error: unknown) => CriStatusError;
  /** Reports what went wrong outside a call's answer. */
  readonly log: (line: string) => void;
}

/** The relay's server and the sessions it holds. */
export interface RelayServer {
  /** The HTTP/2 server (not yet listening). */
  readonly server: Http2Server;
  /** Closes every session: GOAWAY, calls in flight finish for up to `graceMs`, then are cut. */
  closeSessions(graceMs: number): Promise<void>;
}

/** Copies `headers` into `out` but for the hop's own (the pseudo-headers, `date`). */
function copyHeaders(headers: IncomingHttpHeaders, out: OutgoingHttpHeaders): OutgoingHttpHeaders {
  for (const name in headers) {
    const value = headers[name];
    if (name.charCodeAt(0) !== 58 /* : */ && name !== "date" && value !== undefined) out[name] = value;
  }
  return out;
}

/** The headers of a call as the runtime gets them: the caller's, with a `grpc-timeout` for the time left. */
function forwardHeaders(headers: IncomingHttpHeaders, timeLeft?: number): OutgoingHttpHeaders {
  const out = copyHeaders(headers, { ":method": "POST", ":path": headers[":path"], ":authority": headers[":authority"] ?? "localhost" });
  if (timeLeft !== undefined) out["grpc-timeout"] = formatGrpcTimeout(timeLeft);
  return out;
}

/** Trailers as the caller gets them (no pseudo-headers). */
function trailerHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  return copyHeaders(headers, {});
}

/** Reply headers as the caller gets them. */
function replyHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  return copyHeaders(headers, { ":status": headers[":status"] ?? 200 });
}

const ignore = (): void => undefined;

/** The other side of a relayed call: the runtime's stream on the caller's, the caller's on the runtime's. */
const kPeer = Symbol("hookplugins.cri.peer");
/** The call a runtime's stream or caller's stream is part of. */
const kCall = Symbol("hookplugins.cri.call");

/** A stream of a relayed call, with its peer and its call. */
type Joined<S> = S & { [kPeer]: Readable & Writable; [kCall]: RelayedCall };

// The listeners of a relayed call are these functions, shared by every call (`this` is the stream that emits):
// no closures per call.

/** Data from one side goes to the other as it comes, with backpressure: the source pauses while its peer is full. */
function onData(this: Joined<Readable>, chunk: Buffer): void {
  const to = this[kPeer];
  if (!to.write(chunk)) {
    this.pause();
    to.once("drain", onDrain);
  }
}

function onDrain(this: Joined<Writable>): void {
  this[kPeer].resume();
}

/** One side's end ends the other's writing (what `pipe` would do). */
function onEnd(this: Joined<Readable>): void {
  const to = this[kPeer];
  if (!to.writableEnded && !to.destroyed) to.end();
}

/** The caller went away (cancelled, deadline) before the runtime finished: cancel the runtime's call too. */
function onCallerClose(this: Joined<ServerHttp2Stream>): void {
  const up = this[kPeer] as unknown as ClientHttp2Stream;
  if (!up.closed) up.close(constants.NGHTTP2_CANCEL);
}

function onUpError(this: Joined<ClientHttp2Stream>, error: Error): void {
  this[kCall].failure = error;
}

function onUpResponse(this: Joined<ClientHttp2Stream>, reply: IncomingHttpHeaders, flags: number): void {
  this[kCall].response(reply, flags);
}

function onUpTrailers(this: Joined<ClientHttp2Stream>, trailers: IncomingHttpHeaders): void {
  const call = this[kCall];
  call.trailers = trailers;
  call.sendTrailers();
}

function onUpClose(this: Joined<ClientHttp2Stream>): void {
  this[kCall].upClosed();
}

function onHeldData(this: Joined<ClientHttp2Stream>, chunk: Buffer): void {
  this[kCall].held!.push(chunk);
}

function onWantTrailers(this: Joined<ServerHttp2Stream>): void {
  const call = this[kCall];
  call.wantTrailers = true;
  call.sendTrailers();
}

const respondEnd = { endStream: true } as const;
const respondWaitForTrailers = { waitForTrailers: true } as const;

/**
 * One call joined to a call on the runtime: the caller's stream, the runtime's, and what the reply has brought so far.
 * With `hold`, a successful reply's message is given to it before the caller gets it.
 */
class RelayedCall {
  trailers: IncomingHttpHeaders | undefined = undefined;
  wantTrailers = false;
  responded = false;
  failure: Error | undefined = undefined;
  /** A held reply's data (with `hold` only). */
  readonly held: Buffer[] | undefined;

  constructor(
    readonly options: RelayServerOptions,
    readonly stream: ServerHttp2Stream,
    readonly up: ClientHttp2Stream,
    readonly headers: OutgoingHttpHeaders,
    readonly hold: ((reply: Buffer) => Promise<void>) | undefined,
  ) {
    this.held = hold && [];
  }

  sendTrailers(): void {
    if (!this.wantTrailers || !this.trailers || this.stream.closed) return;
    this.wantTrailers = false;
    this.stream.sendTrailers(trailerHeaders(this.trailers));
  }

  response(reply: IncomingHttpHeaders, flags: number): void {
    this.responded = true;
    const stream = this.stream;
    if (stream.closed) return;
    if (flags & constants.NGHTTP2_FLAG_END_STREAM) {
      this.trailers = reply; // a trailers-only reply: the status is in these headers
      stream.respond(replyHeaders(reply), respondEnd);
      return;
    }
    if (this.hold) return; // answered when the trailers come
    stream.respond(replyHeaders(reply), respondWaitForTrailers);
    stream.on("wantTrailers", onWantTrailers);
    this.up.on("data", onData);
    this.up.on("end", onEnd);
  }

  upClosed(): void {
    const { stream, up, options } = this;
    if (stream.closed) return;
    if (!this.responded || !this.trailers) {
      const status = options.upstream.unavailable(whyCallFailed(up, this.failure));
      if (!stream.headersSent) answerStatus(stream, status.code, status.message);
      else if (!this.trailers) {
        this.trailers = { "grpc-status": String(status.code), "grpc-message": encodeGrpcMessage(status.message) };
        this.sendTrailers();
        if (!stream.closed && this.wantTrailers === false && !stream.writableEnded) stream.end();
      }
      return;
    }
    const hold = this.hold;
    if (!hold || stream.headersSent) return;
    const final = this.trailers;
    if (final["grpc-status"] !== "0") {
      stream.respond({ ...replyHeaders(final), ":status": 200, "content-type": "application/grpc" }, respondEnd);
      return;
    }
    const path = String(this.headers[":path"]);
    let reply: Buffer;
    try {
      reply = unframeSingle(Buffer.concat(this.held!), undefined, path);
    } catch (error) {
      answerStatus(stream, GrpcStatus.INTERNAL, (error as Error).message);
      return;
    }
    hold(reply).then(
      () => {
        if (stream.closed) return;
        stream.respond({ ":status": 200, "content-type": "application/grpc" }, respondWaitForTrailers);
        stream.on("wantTrailers", () => stream.sendTrailers(trailerHeaders(final)));
        stream.end(frameMessage(reply));
      },
      (error: unknown) => {
        const status = options.statusOf(error);
        logAnswer(options, path, status);
        answerStatus(stream, status.code, status.message);
      },
    );
  }
}

/** Answers `stream` with a status and no message (a trailers-only reply), when it can still answer. */
export function answerStatus(stream: ServerHttp2Stream, code: GrpcStatusCode, message: string): void {
  if (stream.destroyed || stream.closed) return;
  const status = { "grpc-status": String(code), "grpc-message": encodeGrpcMessage(message) };
  if (!stream.headersSent) stream.respond({ ":status": 200, "content-type": "application/grpc", ...status }, { endStream: true });
  else stream.close(constants.NGHTTP2_INTERNAL_ERROR);
}

/**
 * Joins the caller's `stream` to a call on the runtime: the request body (unless `body` is given: it is sent instead),
 * then the reply. With `hold`, a successful reply's message is given to it before the caller gets it.
 */
function relayCall(
  options: RelayServerOptions,
  stream: ServerHttp2Stream,
  headers: OutgoingHttpHeaders,
  body?: Buffer,
  hold?: (reply: Buffer) => Promise<void>,
): void {
  let up: ClientHttp2Stream;
  try {
    up = options.upstream.request(headers);
  } catch (error) {
    const status = options.upstream.unavailable((error as Error).message);
    answerStatus(stream, status.code, status.message);
    return;
  }
  const call = new RelayedCall(options, stream, up, headers, hold);
  const joinedUp = up as Joined<ClientHttp2Stream>;
  const joinedStream = stream as Joined<ServerHttp2Stream>;
  joinedUp[kPeer] = stream;
  joinedUp[kCall] = call;
  joinedStream[kPeer] = up;
  joinedStream[kCall] = call;
  stream.on("close", onCallerClose);
  up.on("error", onUpError);
  up.on("response", onUpResponse);
  if (hold) up.on("data", onHeldData);
  up.on("trailers", onUpTrailers);
  up.on("close", onUpClose);
  if (body) up.end(body);
  else {
    stream.on("data", onData);
    stream.on("end", onEnd);
  }
}

/** Reads a unary call's request body (of method `path`), up to `max` bytes of message. */
function readBody(stream: ServerHttp2Stream, path: string, max: number, signal: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer): void => {
      length += chunk.length;
      if (length > max + 5) {
        stream.off("data", onData);
        stream.pause();
        reject(new CriStatusError(GrpcStatus.RESOURCE_EXHAUSTED, `hookplugins cri-proxy: the request is larger than ${max} bytes (the relay's limit for ${path}; raise maxMessageBytes, or --max-message-bytes)`));
        return;
      }
      chunks.push(chunk);
    };
    stream.on("data", onData);
    stream.on("end", () => resolve(Buffer.concat(chunks, length)));
    signal.addEventListener("abort", () => reject(statusOfAbort(signal)), { once: true });
  });
}

/** Runs an intercepted unary call. */
async function intercept(options: RelayServerOptions, stream: ServerHttp2Stream, headers: IncomingHttpHeaders, interceptor: Interceptor): Promise<void> {
  const path = headers[":path"] ?? "";
  const timeout = parseGrpcTimeout(headers["grpc-timeout"]);
  const deadline = timeout === undefined ? undefined : performance.now() + timeout;
  const controller = new AbortController();
  const timer = timeout === undefined ? undefined : setTimeout(() => controller.abort(new CriStatusError(GrpcStatus.DEADLINE_EXCEEDED, `the caller's deadline (${timeout} ms) passed in the relay`)), timeout);
  stream.on("close", () => {
    clearTimeout(timer);
    if (!controller.signal.aborted) controller.abort(callerCancelled());
  });
  const call: InterceptedCall = {
    path,
    servicePrefix: path.slice(0, path.lastIndexOf("/") + 1),
    signal: controller.signal,
    timeLeft: () => (deadline === undefined ? undefined : deadline - performance.now()),
  };
  try {
    const body = await readBody(stream, path, options.maxMessageBytes, controller.signal);
    const request = unframeSingle(body, headers["grpc-encoding"] as string | undefined, path, options.maxMessageBytes);
    const rewritten = interceptor.request ? await interceptor.request(request, call) : request;
    controller.signal.throwIfAborted();
    const forwarded = forwardHeaders(headers, call.timeLeft());
    // the message goes uncompressed; the caller's grpc-accept-encoding still applies to the reply
    delete forwarded["grpc-encoding"];
    delete forwarded["content-length"];
    relayCall(options, stream, forwarded, frameMessage(rewritten), interceptor.reply && ((reply) => interceptor.reply!(rewritten, reply, call)));
  } catch (error) {
    const status = controller.signal.aborted && !(error instanceof CriStatusError && error.code !== GrpcStatus.CANCELLED) ? statusOfAbort(controller.signal) : options.statusOf(error);
    logAnswer(options, path, status);
    answerStatus(stream, status.code, status.message);
  } finally {
    if (stream.closed) clearTimeout(timer);
  }
}

/** One line in the relay's log for a call it answered with an error itself (a refusal, a failed plugin, a bad request). */
function logAnswer(options: RelayServerOptions, path: string, status: CriStatusError): void {
  options.log(`hookplugins cri-proxy: ${path}: answered ${grpcStatusName(status.code)}: ${status.message}`);
}

/** The status of a call the caller cancelled. */
function callerCancelled(): CriStatusError {
  return new CriStatusError(GrpcStatus.CANCELLED, "the caller cancelled the call");
}

/** The status of an aborted call: its reason (the caller's deadline passed, or it cancelled). */
function statusOfAbort(signal: AbortSignal): CriStatusError {
  return signal.reason instanceof CriStatusError ? signal.reason : callerCancelled();
}

/** Creates the relay's server (call `listen` on `.server`). */
export function createRelayServer(options: RelayServerOptions): RelayServer {
  const sessions = new Set<Http2Session>();
  const server = createServer({ settings: http2Settings, maxSessionMemory: 256 });
  server.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
    session.on("error", () => undefined);
    session.setLocalWindowSize(64 * 1024 * 1024);
  });
  server.on("sessionError", (error) => options.log(`hookplugins cri-proxy: a client's HTTP/2 session failed: ${error.message}`));
  server.on("stream", (stream, headers) => {
    stream.on("error", ignore);
    const interceptor = options.interceptors.get(headers[":path"] ?? "");
    if (interceptor) {
      void intercept(options, stream, headers, interceptor);
      return;
    }
    relayCall(options, stream, forwardHeaders(headers));
  });
  return {
    server,
    async closeSessions(graceMs) {
      for (const session of sessions) session.close();
      const deadline = Date.now() + graceMs;
      while (sessions.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      for (const session of sessions) session.destroy();
    },
  };
}
