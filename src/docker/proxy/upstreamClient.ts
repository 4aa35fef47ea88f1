/**
 * The engine client that in-process route handlers use: small requests whose answer is read whole (`request`), and
 * `forward`, which sends a request on to the engine (its body replaced when the handler changed it) and streams the
 * engine's answer into the handler's ServerResponse. node:http with a keep-alive Agent, over a UNIX socket or TCP/TLS.
 */
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage, type RequestOptions, type ServerResponse } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { errorMessage } from "./errorResponse.js";
import type { UpstreamAddress } from "./routeTypes.js";
import { formatUpstreamAddress } from "./upstreamAddress.js";

/** The engine could not be reached, or failed before answering (status 502 for the error responder). */
export class UpstreamUnavailableError extends Error {
  override name = "UpstreamUnavailableError";
  /** The status a proxy answers with. */
  readonly status = 502;
  /** The engine's address, as a URL. */
  readonly address: string;

  /** `cannot reach the engine at <address>: <cause>`. */
  constructor(address: string, cause: unknown, what = "cannot reach the engine at") {
    super(`${what} ${address}: ${errorMessage(cause)}`, { cause });
    this.address = address;
  }
}

/** forward() was asked to stream a request body that the handler already read (pass it as `options.body`). */
export class RequestBodyConsumedError extends Error {
  override name = "RequestBodyConsumedError";
  /** The status a proxy answers with. */
  readonly status = 500;
}

/** The engine's answer was larger than the caller allows. */
export class UpstreamResponseTooLargeError extends Error {
  override name = "UpstreamResponseTooLargeError";
  /** The status a proxy answers with. */
  readonly status = 502;
}

/** A whole answer from the engine. */
export interface UpstreamResponse {
  /** Status code. */
  readonly status: number;
  /** Reason phrase. */
  readonly statusMessage: string;
  /** Headers, lower-cased names (node:http's view). */
  readonly headers: IncomingHttpHeaders;
  /** Headers as sent: [name, value, name, value, ...]. */
  readonly rawHeaders: readonly string[];
  /** The body. */
  readonly body: Buffer;
  /** The body parsed as JSON. */
  json<T = unknown>(): T;
}

/** Options of UpstreamClient.request. */
export interface UpstreamRequestOptions {
  /** Request headers. */
  readonly headers?: Readonly<Record<string, string>>;
  /** A body (sent with its Content-Length); objects that are not bytes or strings are sent as JSON. */
  readonly body?: Buffer | Uint8Array | string | object;
  /** Cancels the request. */
  readonly signal?: AbortSignal;
  /** Largest body accepted, in bytes; default 64 MiB. */
  readonly maxResponseBytes?: number;
}

/** Options of UpstreamClient.forward. */
export interface ForwardOptions {
  /** A replacement body (sent with a correct Content-Length); without it the request's own body, unread, streams on. */
  readonly body?: Buffer | Uint8Array | string;
  /** A replacement path and query; default `req.url` (the version prefix included). */
  readonly path?: string;
  /** Headers to set (replacing any of the same name, case-insensitive), or to remove (`undefined`). */
  readonly headers?: Readonly<Record<string, string | undefined>>;
  /** Sees each chunk of the engine's answer body as it passes to the client. */
  readonly onChunk?: (data: Buffer) => void;
  /**
   * Runs when the engine's answer is complete, before the client's response ends (which waits for it); bytes it
   * resolves with are written first (e.g. a last message of a progress stream).
   */
  readonly beforeEnd?: (status: number) => Promise<Buffer | undefined>;
}

/** Options of an UpstreamClient. */
export interface UpstreamClientOptions {
  /** Most concurrent connections to the engine; default Infinity (node:http's default). */
  readonly maxSockets?: number;
}

/** Hop-by-hop fields, which belong to one connection and are not sent on (RFC 9110 section 7.6.1). */
const hopByHop = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"]);

function connectionTokens(rawHeaders: readonly string[]): Set<string> {
  const tokens = new Set<string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() !== "connection") continue;
    for (const t of rawHeaders[i + 1]!.split(",")) if (t.trim()) tokens.add(t.trim().toLowerCase());
  }
  return tokens;
}

/** The end-to-end fields of `rawHeaders` as [name, value] pairs, names as sent, minus `drop` (lower-case). */
export function endToEnd(rawHeaders: readonly string[], drop: ReadonlySet<string>): [string, string][] {
  const listed = connectionTokens(rawHeaders);
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const lower = rawHeaders[i]!.toLowerCase();
    if (hopByHop.has(lower) || listed.has(lower) || drop.has(lower)) continue;
    pairs.push([rawHeaders[i]!, rawHeaders[i + 1]!]);
  }
  return pairs;
}

/** A body as bytes (a string as UTF-8; a Uint8Array's bytes without a copy). */
function bytesOf(body: Buffer | Uint8Array | string): Buffer {
  return typeof body === "string" ? Buffer.from(body, "utf8") : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

/** A client of the engine for in-process route handlers. */
export class UpstreamClient {
  /** The engine's address. */
  readonly address: UpstreamAddress;
  private readonly agent: HttpAgent;
  private readonly url: string;

  /** A client of the engine at `address`, with a keep-alive connection pool. */
  constructor(address: UpstreamAddress, options: UpstreamClientOptions = {}) {
    this.address = address;
    this.url = formatUpstreamAddress(address);
    const common = { keepAlive: true, ...(options.maxSockets !== undefined && { maxSockets: options.maxSockets }) };
    if (address.kind === "tcp" && address.tls) {
      const { ca, cert, key } = address.tls;
      this.agent = new HttpsAgent({ ...common, ...(ca !== undefined && { ca }), ...(cert !== undefined && { cert }), ...(key !== undefined && { key }) });
    } else this.agent = new HttpAgent(common);
  }

  private open(method: string, path: string, headers: [string, string][], signal?: AbortSignal): ClientRequest {
    const options: RequestOptions = { agent: this.agent, method, path, setHost: false, ...(signal && { signal }) };
    const a = this.address;
    if (a.kind === "unix") options.socketPath = a.path;
    else {
      options.host = a.host;
      options.port = a.port;
    }
    const hasHost = headers.some(([n]) => n.toLowerCase() === "host");
    options.headers = [...(hasHost ? [] : ["Host", a.kind === "unix" ? "api.moby.localhost" : `${a.host}:${a.port}`]), ...headers.flat()];
    return a.kind === "tcp" && a.tls ? httpsRequest(options) : httpRequest(options);
  }

  private failure(error: unknown, answered: boolean): Error {
    if (answered) return new UpstreamUnavailableError(this.url, error, "the engine failed while answering, at");
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (code === "ABORT_ERR" || (error as Error | undefined)?.name === "AbortError") return error as Error;
    return new UpstreamUnavailableError(this.url, error);
  }

  /** Sends a request and reads the whole answer (for small JSON calls such as `GET /containers/{id}/json`). */
  request(method: string, path: string, options: UpstreamRequestOptions = {}): Promise<UpstreamResponse> {
    let body: Buffer | undefined;
    const headers: [string, string][] = Object.entries(options.headers ?? {});
    const has = (name: string): boolean => headers.some(([n]) => n.toLowerCase() === name);
    if (options.body !== undefined) {
      const b = options.body;
      if (typeof b === "string" || b instanceof Uint8Array) body = bytesOf(b);
      else {
        body = Buffer.from(JSON.stringify(b), "utf8");
        if (!has("content-type")) headers.push(["Content-Type", "application/json"]);
      }
      if (!has("content-length")) headers.push(["Content-Length", String(body.length)]);
    }
    const limit = options.maxResponseBytes ?? 64 * 1024 * 1024;
    return new Promise((resolve, reject) => {
      const req = this.open(method, path, headers, options.signal);
      let answered = false;
      req.once("error", (error) => reject(this.failure(error, answered)));
      req.once("response", (res: IncomingMessage) => {
        answered = true;
        const parts: Buffer[] = [];
        let length = 0;
        res.on("data", (data: Buffer) => {
          length += data.length;
          if (length > limit) {
            reject(new UpstreamResponseTooLargeError(`the engine's answer to ${method} ${path} is larger than ${limit} bytes`));
            req.destroy();
            return;
          }
          parts.push(data);
        });
        res.once("error", (error) => reject(this.failure(error, true)));
        res.once("end", () => {
          const whole = Buffer.concat(parts, length);
          resolve({
            status: res.statusCode ?? 0,
            statusMessage: res.statusMessage ?? "",
            headers: res.headers,
            rawHeaders: res.rawHeaders,
            body: whole,
            json: <T>() => JSON.parse(whole.toString("utf8")) as T,
          });
        });
      });
      req.end(body);
    });
  }

  /**
   * Opens a GET whose answer streams for long (`GET /events`): resolves with the answer once its head arrived, to be
   * read as it comes; `signal` ends it. Rejects with UpstreamUnavailableError when the engine cannot be reached.
   */
  stream(path: string, signal: AbortSignal): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = this.open("GET", path, [], signal);
      // kept after the head: a connection that fails later must not be an uncaught error (the answer reports it)
      req.on("error", (error) => reject(this.failure(error, false)));
      req.once("response", resolve);
      req.end();
    });
  }

  /**
   * Sends `req` on to the engine and streams the answer into `res` (status, header names and values as the engine sent
   * them, body as it arrives). Resolves when the answer is complete or the client went away (the engine request is
   * then aborted); rejects with UpstreamUnavailableError when the engine cannot be reached (nothing was written to
   * `res`), and cuts `res` off when the engine fails in the middle of its answer.
   */
  forward(req: IncomingMessage, res: ServerResponse, options: ForwardOptions = {}): Promise<void> {
    const override = new Map<string, [string, string | undefined]>();
    for (const [name, value] of Object.entries(options.headers ?? {})) override.set(name.toLowerCase(), [name, value]);
    const replaced = options.body !== undefined;
    const drop = new Set<string>([...override.keys(), ...(replaced ? ["content-length"] : [])]);
    const headers = endToEnd(req.rawHeaders, drop);
    for (const [name, value] of override.values()) if (value !== undefined) headers.push([name, value]);
    let body: Buffer | undefined;
    if (replaced) {
      body = bytesOf(options.body!);
      if (!override.has("content-length")) headers.push(["Content-Length", String(body.length)]);
    } else if (/(^|,)\s*chunked\s*$/i.test(String(req.headers["transfer-encoding"] ?? ""))) {
      headers.push(["Transfer-Encoding", "chunked"]);
    }
    const method = req.method ?? "GET";
    const hasBody = Number(req.headers["content-length"] ?? 0) > 0 || req.headers["transfer-encoding"] !== undefined;
    if (!replaced && hasBody && req.readableDidRead) {
      return Promise.reject(
        new RequestBodyConsumedError(`the handler read the body of ${method} ${req.url ?? ""}; pass the body to forward() as options.body`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const up = this.open(method, options.path ?? req.url ?? "/", headers);
      let answered = false;
      let settled = false;
      const settle = (error?: Error): void => {
        if (settled) return;
        settled = true;
        if (error) reject(error);
        else resolve();
      };
      const onClientGone = (): void => {
        if (!res.writableFinished) up.destroy();
        settle();
      };
      res.once("close", onClientGone);
      up.once("error", (error) => {
        res.off("close", onClientGone);
        if (res.destroyed && !res.writableFinished) return settle();
        if (answered) {
          res.destroy(error);
          return settle(this.failure(error, true));
        }
        settle(this.failure(error, false));
      });
      up.once("response", (answer: IncomingMessage) => {
        answered = true;
        const raw = endToEnd(answer.rawHeaders, new Set()).flat();
        const status = answer.statusCode ?? 502;
        // an answer without a body is complete for the client with its head: with beforeEnd, the head waits for it
        const bodiless = status === 204 || status === 304 || method === "HEAD" || answer.headers["content-length"] === "0";
        const writeHead = (): void => {
          if (res.headersSent) return;
          res.writeHead(status, answer.statusMessage ?? "", raw);
          res.flushHeaders();
        };
        if (!(bodiless && options.beforeEnd)) writeHead();
        answer.on("data", (data: Buffer) => {
          options.onChunk?.(data);
          if (!res.write(data)) {
            answer.pause();
            res.once("drain", () => answer.resume());
          }
        });
        answer.once("end", () => {
          const finish = (last?: Buffer): void => {
            writeHead();
            if (last !== undefined && last.length > 0 && !bodiless) res.write(last);
            res.end(() => settle());
          };
          if (!options.beforeEnd) return finish();
          options.beforeEnd(answer.statusCode ?? 0).then(finish, (error: unknown) => {
            res.destroy(error as Error);
            settle(error as Error);
          });
        });
        answer.once("error", (error) => {
          res.destroy(error);
          settle(this.failure(error, true));
        });
        answer.once("close", () => {
          if (answer.complete) return;
          res.destroy();
          settle(this.failure(new Error("the answer was cut off"), true));
        });
      });
      if (replaced || req.readableEnded) up.end(body);
      else req.pipe(up);
    });
  }

  /** Closes the pooled connections; requests in flight are cut off. */
  close(): void {
    this.agent.destroy();
  }
}
