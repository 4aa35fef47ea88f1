/**
 * The relay's HTTP/2 server: every gRPC call on every path goes to the runtime as it came (headers with the metadata
 * and `grpc-timeout`, message bytes, then the runtime's headers, messages, trailers and status back), with
 * cancellation both ways. Calls to an intercepted method are unary: the relay reads the request message, lets the
 * interceptor rewrite it (or answer with an error status, and then nothing reaches the runtime), and may hold the
 * reply until the interceptor has seen it.
 */
import { constants, createServer, type Http2Server, type Http2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import { CriStatusError, encodeGrpcMessage, formatGrpcTimeout, frameMessage, GrpcStatus, grpcStatusName, parseGrpcTimeout, unframeSingle, type GrpcStatusCode } from "./grpcWire.js";
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

const hopHeaders = new Set([":method", ":path", ":scheme", ":authority", ":status", "date"]);

/** The headers of a call as the runtime gets them: the caller's, with a `grpc-timeout` for the time left. */
function forwardHeaders(headers: IncomingHttpHeaders, timeLeft?: number): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ":method": "POST", ":path": headers[":path"], ":authority": headers[":authority"] ?? "localhost" };
  for (const [name, value] of Object.entries(headers)) if (!hopHeaders.has(name) && value !== undefined) out[name] = value;
  if (timeLeft !== undefined) out["grpc-timeout"] = formatGrpcTimeout(timeLeft);
  return out;
}

/** Trailers as the caller gets them (no pseudo-headers). */
function trailerHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (!hopHeaders.has(name) && value !== undefined) out[name] = value;
  return out;
}

/** Reply headers as the caller gets them. */
function replyHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  return { ":status": headers[":status"] ?? 200, ...trailerHeaders(headers) };
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
  let up;
  try {
    up = options.upstream.request(headers);
  } catch (error) {
    const status = options.upstream.unavailable((error as Error).message);
    answerStatus(stream, status.code, status.message);
    return;
  }
  let trailers: IncomingHttpHeaders | undefined;
  let wantTrailers = false;
  let responded = false;
  const held: Buffer[] = [];
  const sendTrailers = (): void => {
    if (!wantTrailers || !trailers || stream.closed) return;
    wantTrailers = false;
    stream.sendTrailers(trailerHeaders(trailers));
  };
  stream.on("close", () => {
    // the caller went away (cancelled, deadline) before the runtime finished: cancel the runtime's call too
    if (!up.closed) up.close(constants.NGHTTP2_CANCEL);
  });
  let failure: Error | undefined;
  up.on("error", (error: Error) => (failure = error));
  up.on("response", (reply, flags) => {
    responded = true;
    if (stream.closed) return;
    if (flags & constants.NGHTTP2_FLAG_END_STREAM) {
      trailers = reply; // a trailers-only reply: the status is in these headers
      stream.respond(replyHeaders(reply), { endStream: true });
      return;
    }
    if (hold) return; // answered when the trailers come
    stream.respond(replyHeaders(reply), { waitForTrailers: true });
    stream.on("wantTrailers", () => {
      wantTrailers = true;
      sendTrailers();
    });
    up.pipe(stream);
  });
  if (hold) up.on("data", (chunk: Buffer) => held.push(chunk));
  up.on("trailers", (received) => {
    trailers = received;
    sendTrailers();
  });
  up.on("close", () => {
    if (stream.closed) return;
    if (!responded || !trailers) {
      const status = options.upstream.unavailable(whyCallFailed(up, failure));
      if (!stream.headersSent) answerStatus(stream, status.code, status.message);
      else if (!trailers) {
        trailers = { "grpc-status": String(status.code), "grpc-message": encodeGrpcMessage(status.message) };
        sendTrailers();
        if (!stream.closed && wantTrailers === false && !stream.writableEnded) stream.end();
      }
      return;
    }
    if (!hold || stream.headersSent) return;
    const final = trailers ?? {};
    if (final["grpc-status"] !== "0") {
      stream.respond({ ...replyHeaders(final), ":status": 200, "content-type": "application/grpc" }, { endStream: true });
      return;
    }
    let reply: Buffer;
    try {
      reply = unframeSingle(Buffer.concat(held), undefined, String(headers[":path"]));
    } catch (error) {
      answerStatus(stream, GrpcStatus.INTERNAL, (error as Error).message);
      return;
    }
    hold(reply).then(
      () => {
        if (stream.closed) return;
        stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
        stream.on("wantTrailers", () => stream.sendTrailers(trailerHeaders(final)));
        stream.end(frameMessage(reply));
      },
      (error: unknown) => {
        const status = options.statusOf(error);
        logAnswer(options, String(headers[":path"]), status);
        answerStatus(stream, status.code, status.message);
      },
    );
  });
  if (body) up.end(body);
  else stream.pipe(up);
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
    signal.addEventListener("abort", () => reject(new CriStatusError(GrpcStatus.CANCELLED, "the caller cancelled the call")), { once: true });
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
    if (!controller.signal.aborted) controller.abort(new CriStatusError(GrpcStatus.CANCELLED, "the caller cancelled the call"));
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

function statusOfAbort(signal: AbortSignal): CriStatusError {
  return signal.reason instanceof CriStatusError ? signal.reason : new CriStatusError(GrpcStatus.CANCELLED, "the caller cancelled the call");
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
    stream.on("error", () => undefined);
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
