/**
 * A generic Docker v1 plugin server: `POST /<Interface>.<Method>` routes to handlers over a UNIX socket or TCP,
 * `/Plugin.Activate` answered from the implements list, errors as `{"Err": ...}`. It knows nothing about hook
 * plugins, so other Docker plugin kinds (authorization, volume drivers) can be served with it too.
 */
import { chmod, lstat, rm } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { defaultMaxMessageBytes, replyMediaType } from "./protocol.js";

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

/** Where to listen: a UNIX socket path, or a TCP port (0: any free port) on `host` (default 127.0.0.1). */
export type V1ListenOptions = { readonly socket: string } | { readonly port: number; readonly host?: string };

/** A listening v1 plugin server. */
export interface V1PluginServer {
  /** Where it listens: "unix:///path.sock" or "tcp://127.0.0.1:port". */
  readonly address: string;
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

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new V1PluginError(`request body of ${declared} bytes is over this plugin's limit of ${limit} bytes`, 413));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.resume();
        reject(new V1PluginError(`request body is over this plugin's limit of ${limit} bytes`, 413));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks, size)));
    req.on("error", reject);
  });
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === "string" ? error : JSON.stringify(error) ?? String(error);
}

function isStream(handler: V1Handler | V1StreamHandler): handler is V1StreamHandler {
  return typeof handler === "object" && handler !== null && typeof (handler as V1StreamHandler).stream === "function";
}

/** A node:http request listener serving `options`: mount it in any HTTP server. */
export function createV1RequestListener(options: V1ServerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const limit = options.maxBodyBytes ?? defaultMaxMessageBytes;
  const handlers: Record<string, V1Handler | V1StreamHandler> = {
    "Plugin.Activate": () => ({ Implements: [...options.implements] }),
    ...options.handlers,
  };
  const known = Object.keys(handlers).sort();
  return (req, res) => {
    const call = (req.url ?? "/").split("?")[0]!.slice(1);
    const handler = Object.hasOwn(handlers, call) ? handlers[call] : undefined;
    if (req.method !== "POST") {
      req.resume();
      res.setHeader("Allow", "POST");
      sendJson(res, 405, { Err: `${req.method ?? "?"} ${req.url ?? ""}: plugin calls are POST /<Interface>.<Method>` });
      return;
    }
    if (!handler) {
      req.resume();
      sendJson(res, 404, { Err: `unknown method "${call}"; this plugin answers ${known.join(", ")}` });
      return;
    }
    const aborter = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) aborter.abort(new Error(`the client of ${call} went away`));
    });
    const fail = (error: unknown): void => {
      const status = error instanceof V1PluginError ? error.status : 500;
      sendJson(res, status, { Err: messageOf(error) || "plugin failed without a message" });
    };
    if (isStream(handler)) {
      handler.stream(req, res, aborter.signal).catch(fail);
      return;
    }
    readBody(req, limit)
      .then(async (raw) => {
        let body: unknown;
        const text = raw.toString("utf8").trim();
        if (text !== "") {
          try {
            body = JSON.parse(text);
          } catch (error) {
            throw new V1PluginError(`request body of ${call} is not valid JSON: ${(error as Error).message}`, 400);
          }
        }
        const reply = await handler(body, { call, raw, headers: req.headers, signal: aborter.signal });
        sendJson(res, 200, reply);
      })
      .catch(fail);
  };
}

async function removeStaleSocket(path: string): Promise<void> {
  try {
    const info = await lstat(path);
    if (!info.isSocket()) throw new Error(`${path} exists and is not a socket; remove it or choose another path`);
    await rm(path, { force: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

/** Starts a v1 plugin server on a UNIX socket (mode 0600) or a TCP port. */
export async function listenV1Plugin(options: V1ServerOptions & V1ListenOptions): Promise<V1PluginServer> {
  const server = createServer({ keepAliveTimeout: 60_000 }, createV1RequestListener(options));
  const socketPath = "socket" in options ? options.socket : undefined;
  if (socketPath !== undefined) await removeStaleSocket(socketPath);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    const done = (): void => {
      server.off("error", reject);
      resolve();
    };
    if (socketPath !== undefined) server.listen(socketPath, done);
    else {
      const tcp = options as { port: number; host?: string };
      server.listen(tcp.port, tcp.host ?? "127.0.0.1", done);
    }
  });
  if (socketPath !== undefined) await chmod(socketPath, 0o600);
  const tcpAddress = socketPath === undefined ? (server.address() as AddressInfo) : undefined;
  let closing: Promise<void> | undefined;
  return {
    address: socketPath !== undefined ? `unix://${socketPath}` : `tcp://${tcpAddress!.address}:${tcpAddress!.port}`,
    socketPath,
    port: tcpAddress?.port,
    server,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }).then(async () => {
        if (socketPath !== undefined) await rm(socketPath, { force: true });
      })),
  };
}
