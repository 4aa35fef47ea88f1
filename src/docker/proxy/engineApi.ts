/**
 * The proxy's own calls to the engine: a container's or an image's inspect, the engine's info, and the requests the
 * hook-point routes send on after the plugins ran. Node's HTTP client over one keep-alive agent.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { readFileSync } from "node:fs";
import type { Readable } from "node:stream";
import type { UpstreamAddress } from "./routeTypes.js";
import { formatUpstream } from "./upstreamAddress.js";

/** The engine could not be reached, or broke off a response. */
export class EngineUnreachableError extends Error {
  override name = "EngineUnreachableError";
  /** HTTP status the proxy answers with. */
  readonly status = 502;
}

/** A small JSON answer of the engine. */
export interface EngineJson<T> {
  /** HTTP status. */
  readonly status: number;
  /** Response headers. */
  readonly headers: IncomingHttpHeaders;
  /** The parsed body (undefined when it was empty or not JSON). */
  readonly body: T | undefined;
}

/** Options of one request to the engine. */
export interface EngineRequestOptions {
  /** Request headers (Host is set). */
  readonly headers?: OutgoingHttpHeaders;
  /** The body: a buffer (Content-Length is set) or a stream (sent chunked). */
  readonly body?: Buffer | Readable;
  /** Aborts the request. */
  readonly signal?: AbortSignal;
}

/** Requests to the engine behind the proxy. */
export class EngineApi {
  readonly #agent: HttpAgent;
  readonly #address: UpstreamAddress;
  readonly #https: boolean;

  /** A client of the engine at `address`. */
  constructor(address: UpstreamAddress) {
    this.#address = address;
    this.#https = address.kind === "tcp" && address.tls !== undefined;
    const tls = address.kind === "tcp" ? address.tls : undefined;
    this.#agent = tls
      ? new HttpsAgent({
          keepAlive: true,
          ...(tls.ca && { ca: readFileSync(tls.ca) }),
          ...(tls.cert && { cert: readFileSync(tls.cert) }),
          ...(tls.key && { key: readFileSync(tls.key) }),
        })
      : new HttpAgent({ keepAlive: true });
  }

  /** The engine's address as users write it. */
  get address(): string {
    return formatUpstream(this.#address);
  }

  /** Sends a request; resolves with the response once its head arrived (the body is the stream to read). */
  send(method: string, path: string, options: EngineRequestOptions = {}): Promise<IncomingMessage> {
    const headers: OutgoingHttpHeaders = { ...options.headers };
    if (Buffer.isBuffer(options.body)) headers["content-length"] = options.body.length;
    const target =
      this.#address.kind === "unix"
        ? { socketPath: this.#address.path, host: "docker" }
        : { host: this.#address.host, port: this.#address.port };
    const request = this.#https ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request({ ...target, method, path, headers, agent: this.#agent, ...(options.signal && { signal: options.signal }) }, resolve);
      req.on("error", (error: NodeJS.ErrnoException) => {
        if (error.name === "AbortError") reject(error);
        else reject(new EngineUnreachableError(`cannot reach the engine at ${this.address}: ${error.message}`, { cause: error }));
      });
      const body = options.body;
      if (body === undefined) req.end();
      else if (Buffer.isBuffer(body)) req.end(body);
      else body.pipe(req);
    });
  }

  /** Sends a request and reads a small JSON answer (at most 16 MiB). */
  async json<T>(method: string, path: string, body?: unknown): Promise<EngineJson<T>> {
    const res = await this.send(method, path, body === undefined ? {} : { headers: { "content-type": "application/json" }, body: Buffer.from(JSON.stringify(body)) });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > 16 * 1024 * 1024) {
        res.destroy();
        throw new EngineUnreachableError(`the engine at ${this.address} answered ${method} ${path} with more than 16 MiB`);
      }
      chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString("utf8");
    let parsed: T | undefined;
    try {
      parsed = text === "" ? undefined : (JSON.parse(text) as T);
    } catch {
      parsed = undefined;
    }
    return { status: res.statusCode ?? 0, headers: res.headers, body: parsed };
  }

  /** Closes the pooled connections. */
  close(): void {
    this.#agent.destroy();
  }
}
