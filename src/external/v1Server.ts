/**
 * A generic Docker v1 plugin server: `POST /<Interface>.<Method>` routes to handlers over a UNIX socket or TCP
 * (optionally TLS, with client certificates), `/Plugin.Activate` answered from the implements list, errors as `{"Err": ...}`. It knows nothing about hook
 * plugins, so other Docker plugin kinds (authorization, volume drivers) can be served with it too.
 */
import { listenOnSocket } from "./unixSocket.js";
import { formatPluginAddress } from "./v1Client.js";
import { rm } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { defaultMaxMessageBytes, replyMediaType } from "./protocol.js";
import type { TLSSocket } from "node:tls";
import { clientCertRefusal, httpsServerOptionsOf, TlsOptionsError, type PluginTlsServerOptions } from "./tlsServerOptions.js";

/** One request as a JSON handler sees it. */
export interface V1Request {
  /** The call, e.g. "VolumeDriver.Create". */
  readonly call: string;
  /** The raw body bytes. */
  readonly raw: Buffer;
  /** The request headers. */
  readonly headers: IncomingHttpHeaders;
  /** Aborted when the client goes away before the reply is sent. */
  readonly signal: AbortSignal;
}

/** Answers one JSON call: `body` is the parsed body (undefined when empty); the result is sent as JSON (undefined: `{}`). */
export type V1Handler = (body: unknown, request: V1Request) => unknown;

/** Answers one call with full control of the request and response streams (for streamed bodies). */
export interface V1StreamHandler {
  /** Reads `req` and writes `res`; a rejection before the head is sent becomes a 500 `{"Err"}`. */
  readonly stream: (req: IncomingMessage, res: ServerResponse, signal: AbortSignal) => Promise<void>;
}

/** A handler failure with a chosen HTTP status (default 500); its message becomes `Err`. */
export class V1PluginError extends Error {
  override name = "V1PluginError";
  /** The HTTP status of the reply. */
  readonly status: number;

  /** Creates the error; `status` defaults to 500. */
  constructor(message: string, status = 500) {
    super(message);
    this.status = status;
  }
}

/** What a v1 plugin server serves. */
export interface V1ServerOptions {
  /** The interfaces `/Plugin.Activate` announces ("VolumeDriver", "authz", "ContainerPlugin", ...). */
  readonly implements: readonly string[];
  /** Handlers by call name ("VolumeDriver.Create"); a "Plugin.Activate" entry replaces the built-in one. */
  readonly handlers: Readonly<Record<string, V1Handler | V1StreamHandler>>;
  /** Largest request body accepted, in bytes (default 16 MiB); larger gets 413. */
  readonly maxBodyBytes?: number;
}

/**
 * Where to listen: a UNIX socket path, or a TCP port (0: any free port) on `host` (default 127.0.0.1), over TLS
 * when `tls` is given (client certificates required unless `tls.requireClientCert` is false).
 */
export type V1ListenOptions =
  | { readonly socket: string }
  | { readonly port: number; readonly host?: string; readonly tls?: PluginTlsServerOptions };

/** A listening v1 plugin server. */
export interface V1PluginServer {
  /** Where it listens: "unix:///path.sock", "tcp://127.0.0.1:port", or "https://127.0.0.1:port" over TLS. */
  readonly address: string;
  /** Over TLS: whether hosts must show a client certificate signed by its CA; undefined without TLS. */
  readonly tls: { readonly clientCertRequired: boolean } | undefined;
  /** The socket path, when it listens on one. */
  readonly socketPath: string | undefined;
  /** The TCP port, when it listens on one. */
  readonly port: number | undefined;
  /** The underlying node:http server. */
  readonly server: Server;
  /** Stops accepting, ends idle connections, waits for calls in flight, removes the socket file. Idempotent. */
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(value ?? {});
  res.writeHead(status, { "Content-Type": replyMediaType, "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

const emptyBody = Buffer.alloc(0);

/** Reads a request body up to `limit` bytes, then calls `done` once (a 413 V1PluginError when over the limit). */
function readBody(req: IncomingMessage, limit: number, done: (error: unknown, raw?: Buffer) => void): void {
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > limit) {
    req.resume();
    done(new V1PluginError(`request body of ${declared} bytes is over this plugin's limit of ${limit} bytes`, 413));
    return;
  }
  let first: Buffer | undefined;
  let more: Buffer[] | undefined;
  let size = 0;
  let over = false;
  req.on("data", (chunk: Buffer) => {
    if (over) return;
    size += chunk.length;
    if (size > limit) {
      over = true;
      done(new V1PluginError(`request body is over this plugin's limit of ${limit} bytes`, 413));
    } else if (first === undefined) first = chunk;
    else (more ??= [first]).push(chunk);
  });
  req.on("end", () => {
    if (!over) done(undefined, more !== undefined ? Buffer.concat(more, size) : (first ?? emptyBody));
  });
  req.on("error", (error) => {
    if (over) return;
    over = true;
    done(error);
  });
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === "string" ? error : JSON.stringify(error) ?? String(error);
}

function isStream(handler: V1Handler | V1StreamHandler): handler is V1StreamHandler {
  return typeof handler === "object" && handler !== null && typeof (handler as V1StreamHandler).stream === "function";
}

/** One request as a JSON handler sees it; its AbortSignal is made only when a handler reads it. */
class JsonRequest implements V1Request {
  #controller: AbortController | undefined = undefined;

  constructor(
    readonly call: string,
    readonly raw: Buffer,
    readonly headers: IncomingHttpHeaders,
    private readonly res: ServerResponse,
  ) {}

  get signal(): AbortSignal {
    if (this.#controller === undefined) this.#controller = abortWhenGone(this.res, this.call);
    return this.#controller.signal;
  }
}

/** A controller aborted when the client goes away before the reply is sent (at once when it already has). */
function abortWhenGone(res: ServerResponse, call: string): AbortController {
  const aborter = new AbortController();
  const gone = (): void => {
    if (!res.writableFinished) aborter.abort(new Error(`the client of ${call} went away`));
  };
  if (res.socket === null || res.socket.destroyed) gone();
  else res.once("close", gone);
  return aborter;
}

/** A node:http request listener serving `options`: mount it in any HTTP server. */
export function createV1RequestListener(options: V1ServerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const limit = options.maxBodyBytes ?? defaultMaxMessageBytes;
  const table: Record<string, V1Handler | V1StreamHandler> = {
    "Plugin.Activate": () => ({ Implements: [...options.implements] }),
    ...options.handlers,
  };
  const handlers = new Map(Object.entries(table));
  const known = [...handlers.keys()].sort();
  return (req, res) => {
    const url = req.url ?? "/";
    const query = url.indexOf("?");
    const call = query < 0 ? url.slice(1) : url.slice(1, query);
    const handler = handlers.get(call);
    if (req.method !== "POST") {
      req.resume();
      res.setHeader("Allow", "POST");
      sendJson(res, 405, { Err: `${req.method ?? "?"} ${url}: plugin calls are POST /<Interface>.<Method>` });
      return;
    }
    if (!handler) {
      req.resume();
      sendJson(res, 404, { Err: `unknown method "${call}"; this plugin answers ${known.join(", ")}` });
      return;
    }
    const fail = (error: unknown): void => {
      const status = error instanceof V1PluginError ? error.status : 500;
      sendJson(res, status, { Err: messageOf(error) || "plugin failed without a message" });
    };
    if (isStream(handler)) {
      handler.stream(req, res, abortWhenGone(res, call).signal).catch(fail);
      return;
    }
    readBody(req, limit, (error, raw) => {
      if (error !== undefined) {
        fail(error);
        return;
      }
      let reply: unknown;
      try {
        reply = handler(parseBody(call, raw!), new JsonRequest(call, raw!, req.headers, res));
      } catch (thrown) {
        fail(thrown);
        return;
      }
      if (isThenable(reply)) reply.then((value) => sendJson(res, 200, value), fail);
      else sendJson(res, 200, reply);
    });
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";
}

/** The parsed JSON body (undefined when empty or blank); bad JSON is a 400. */
function parseBody(call: string, raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  const text = raw.toString("utf8");
  try {
    return JSON.parse(text);
  } catch (error) {
    if (text.trim() === "") return undefined;
    throw new V1PluginError(`request body of ${call} is not valid JSON: ${(error as Error).message}`, 400);
  }
}

/** The TLS options of a listen, checked: none on a UNIX socket (its file mode guards it, and Docker dials it in plain). */
function tlsOf(options: V1ListenOptions): PluginTlsServerOptions | undefined {
  const tls = (options as { tls?: PluginTlsServerOptions }).tls;
  if (tls !== undefined && "socket" in options) {
    throw new TlsOptionsError(`tls is for TCP ports; the UNIX socket ${options.socket} is guarded by its file mode (0600) and Docker dials it without TLS: listen on { port, host, tls } instead`);
  }
  return tls;
}

/** `listener` behind the client certificate check of `tls`: a refused host gets 403 and an Err saying why, then the connection closes. */
function guarded(tls: PluginTlsServerOptions, listener: (req: IncomingMessage, res: ServerResponse) => void): (req: IncomingMessage, res: ServerResponse) => void {
  if (tls.requireClientCert === false) return listener;
  return (req, res) => {
    const refusal = clientCertRefusal(req.socket as TLSSocket);
    if (refusal === undefined) return listener(req, res);
    req.resume();
    res.shouldKeepAlive = false;
    sendJson(res, 403, { Err: refusal });
  };
}

/** Starts a v1 plugin server on a UNIX socket (mode 0600) or a TCP port, over TLS when `tls` is given. */
export async function listenV1Plugin(options: V1ServerOptions & V1ListenOptions): Promise<V1PluginServer> {
  const tls = tlsOf(options);
  const listener = createV1RequestListener(options);
  const server: Server =
    tls === undefined ? createServer({ keepAliveTimeout: 60_000 }, listener) : createHttpsServer({ keepAliveTimeout: 60_000, ...httpsServerOptionsOf(tls) }, guarded(tls, listener));
  const socketPath = "socket" in options ? options.socket : undefined;
  if (socketPath !== undefined) await listenOnSocket(server, socketPath);
  else {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      const tcp = options as { port: number; host?: string };
      server.listen(tcp.port, tcp.host ?? "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  }
  const tcpAddress = socketPath === undefined ? (server.address() as AddressInfo) : undefined;
  let closing: Promise<void> | undefined;
  return {
    address: socketPath !== undefined ? `unix://${socketPath}` : formatPluginAddress({ kind: "tcp", host: tcpAddress!.address, port: tcpAddress!.port, ...(tls && { tls: {} }) }),
    tls: tls && { clientCertRequired: tls.requireClientCert !== false },
    socketPath,
    port: tcpAddress?.port,
    server,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        // a keep-alive connection busy now turns idle after its reply: close idle ones until the server has closed,
        // instead of waiting for keepAliveTimeout
        const sweep = setInterval(() => server.closeIdleConnections(), 50);
        sweep.unref();
        server.close(() => {
          clearInterval(sweep);
          resolve();
        });
        server.closeIdleConnections();
      }).then(async () => {
        if (socketPath !== undefined) await rm(socketPath, { force: true });
      })),
  };
}
