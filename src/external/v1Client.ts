/**
 * The client side of Docker's v1 plugin protocol: POSTs `/<Interface>.<Method>` to one plugin over a pooled
 * keep-alive connection (UNIX socket or TCP, optionally TLS), with a reply size cap and errors that say what went wrong.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type ClientRequest, type RequestOptions } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { PassThrough, type Readable } from "node:stream";
import { createSecureContext, rootCertificates, type SecureContext } from "node:tls";
import { abortListenerKey, type AbortListenable } from "../plugins/registeredSymbols.js";
import { defaultMaxMessageBytes, pluginMediaType } from "./protocol.js";

/** Where a plugin listens. */
export type PluginAddress =
  | { readonly kind: "unix"; readonly socketPath: string }
  | { readonly kind: "tcp"; readonly host: string; readonly port: number; readonly tls?: PluginTlsOptions };

/** TLS settings of a TCP plugin (from a `.json` spec's TLSConfig). */
export interface PluginTlsOptions {
  /** PEM CA certificates to trust, besides the system's (as Go's tlsconfig does). */
  readonly ca?: string | Buffer;
  /** PEM client certificate, shown to a plugin that requires one. */
  readonly cert?: string | Buffer;
  /** PEM client key of `cert`. */
  readonly key?: string | Buffer;
  /** Skip every check of the plugin's certificate (CA, expiry, name): the connection is encrypted but not authenticated. */
  readonly insecureSkipVerify?: boolean;
}

/** Why a call failed. */
export type V1CallErrorKind =
  /** The plugin could not be reached (no socket, refused): worth dialling again later. */
  | "connect"
  /** The plugin replied with a non-200 status. */
  | "status"
  /** The plugin replied 200 with a non-empty Err. */
  | "err"
  /** The reply was not valid JSON, had the wrong shape, or was too big. */
  | "protocol"
  /** The connection broke while the call was in flight (the plugin process died, say). */
  | "closed"
  /** The TLS handshake refused a certificate (untrusted, expired, wrong name, none sent): fix the certificates, not the network. */
  | "tls";

/** A failed plugin call; the message is the plugin's own `Err` (or reply text) when it sent one. */
export class V1CallError extends Error {
  override name = "V1CallError";
  /** What kind of failure this is. */
  readonly kind: V1CallErrorKind;
  /** The call, e.g. "ContainerPlugin.PreCreate". */
  readonly call: string;
  /** The HTTP status, when a reply arrived. */
  readonly status: number | undefined;

  /** Creates the error. */
  constructor(kind: V1CallErrorKind, call: string, message: string, status?: number, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.kind = kind;
    this.call = call;
    this.status = status;
  }
}

/** Options of a V1Client. */
export interface V1ClientOptions {
  /** Largest reply accepted, in bytes (default 16 MiB). */
  readonly maxReplyBytes?: number;
  /** Most connections kept to the plugin at once (default 64); more calls queue. */
  readonly maxSockets?: number;
}

/** Parses a plugin URL: `unix:///path.sock`, `tcp://host:port` (also `http://`, `https://`). */
export function parsePluginAddress(url: string, tls?: PluginTlsOptions): PluginAddress {
  const trimmed = url.trim();
  if (trimmed.startsWith("unix://")) {
    const socketPath = trimmed.slice("unix://".length);
    if (!socketPath.startsWith("/")) throw new Error(`plugin address "${url}": a unix:// address needs an absolute path (unix:///run/x.sock)`);
    return { kind: "unix", socketPath };
  }
  const match = /^(tcp|http|https):\/\/([^/:]+|\[[^\]]+\]):(\d+)\/?$/.exec(trimmed);
  if (!match) throw new Error(`plugin address "${url}" is not unix:///path or tcp://host:port`);
  const useTls = tls ?? (match[1] === "https" ? {} : undefined);
  return { kind: "tcp", host: match[2]!.replace(/^\[|\]$/g, ""), port: Number(match[3]), ...(useTls && { tls: useTls }) };
}

/** The address as a URL again: "unix:///path", "tcp://host:port", or "https://host:port" over TLS. */
export function formatPluginAddress(address: PluginAddress): string {
  if (address.kind === "unix") return `unix://${address.socketPath}`;
  return `${address.tls ? "https" : "tcp"}://${address.host.includes(":") ? `[${address.host}]` : address.host}:${address.port}`;
}

const connectCodes = new Set(["ENOENT", "ECONNREFUSED", "ENOTSOCK", "EACCES", "EHOSTUNREACH", "ENETUNREACH", "EADDRNOTAVAIL", "ENOTFOUND"]);

/** Server certificate checks that fail because no CA this host trusts signed it. */
const untrustedCodes = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
]);

const caFix = `set "CAFile" in the spec file's TLSConfig (PluginTlsOptions.ca) to the CA that signed the plugin's certificate (its --tls-cert)`;
const clientCertFix = `set "CertFile" and "KeyFile" in the spec file's TLSConfig (PluginTlsOptions.cert and key) to a certificate signed by the CA the plugin trusts (its --tls-ca)`;

/** What went wrong in a TLS handshake with the plugin at `address`, and the fix; undefined when `error` is not a TLS failure. */
function tlsProblem(address: PluginAddress, error: NodeJS.ErrnoException): string | undefined {
  const code = error.code ?? "";
  // OpenSSL's own words ("tlsv13 alert certificate required"), not its multi-line error string
  const reason = (error as { reason?: unknown }).reason ?? /:SSL routines:[^:]*:([^:]+):/.exec(error.message)?.[1] ?? error.message.split("\n")[0];
  const why = `${code}: ${String(reason)}`;
  if (untrustedCodes.has(code)) return `the plugin's certificate is not signed by a CA this host trusts (${why}); ${caFix}`;
  if (code === "CERT_HAS_EXPIRED") return `the plugin's certificate has expired (${why}); renew the certificate the plugin serves (--tls-cert, serve({ tls: { cert } }))`;
  if (code === "CERT_NOT_YET_VALID") return `the plugin's certificate is not valid yet (${why}); check both machines' clocks, or reissue it`;
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    const host = address.kind === "tcp" ? address.host : "";
    return `the plugin's certificate does not name "${host}" (${why}); write a name or IP address its certificate holds in the spec's "Addr", or reissue the certificate with ${host} in its subjectAltName`;
  }
  if (code === "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED") return `the plugin requires a client certificate and this host sent none (${why}); ${clientCertFix}`;
  if (code === "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA") return `the plugin refused this host's client certificate: no CA it trusts signed it (${why}); ${clientCertFix}`;
  if (code === "ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED") return `the plugin refused this host's client certificate: it has expired (${why}); renew the certificate in the spec file's TLSConfig "CertFile"`;
  if (/^(wrong version number|packet length too long)$/.test(String(reason))) {
    return `the plugin does not answer TLS there (${why}); it serves plain HTTP: write tcp:// without TLSConfig, or serve it over TLS (--tls-cert, --tls-key, --tls-ca)`;
  }
  if (/^ERR_(SSL|TLS|OSSL)_/.test(code) || (code === "EPROTO" && reason !== error.message)) return `the handshake failed (${why}); check the spec file's TLSConfig ("CAFile", "CertFile", "KeyFile") against the plugin's --tls-cert and --tls-ca`;
  return undefined;
}

/**
 * The one classifier of transport failures: a V1CallError of kind "connect" (nothing to reach: worth dialling again),
 * "tls" (the handshake refused a certificate: the fix is in the message) or "closed" (the connection broke `during`).
 */
function transportFailure(call: string, address: PluginAddress, error: NodeJS.ErrnoException, during: string, status?: number): V1CallError {
  const where = formatPluginAddress(address);
  if ((error.code && connectCodes.has(error.code)) || error.syscall === "connect") {
    const why = error.code === "ENOENT" ? "no socket there" : error.code === "ECONNREFUSED" ? "nothing accepts connections there" : error.message;
    return new V1CallError("connect", call, `cannot connect to ${where} (${why})`, undefined, error);
  }
  const tls = tlsProblem(address, error);
  if (tls !== undefined) return new V1CallError("tls", call, `TLS with the plugin at ${where} failed during ${call}: ${tls}`, undefined, error);
  return new V1CallError("closed", call, `the connection to the plugin broke ${during} (${error.message}; ${where})`, status, error);
}

/**
 * The one reply size cap: checks the declared length, then counts each chunk; past `limit` it destroys the reply and
 * calls `over` once with a "protocol" V1CallError. Chunks within the limit go to `onChunk`.
 */
function capReply(res: IncomingMessage, call: string, limit: number, onChunk: (chunk: Buffer, size: number) => void, over: (error: V1CallError) => void): void {
  const tooBig = (): void => {
    res.destroy();
    over(new V1CallError("protocol", call, `the reply of ${call} is over the limit of ${limit} bytes`, res.statusCode));
  };
  const declared = res.headers["content-length"];
  if (declared !== undefined && Number(declared) > limit) {
    tooBig();
    return;
  }
  let size = 0;
  res.on("data", (chunk: Buffer) => {
    if (size > limit) return;
    size += chunk.length;
    if (size > limit) tooBig();
    else onChunk(chunk, size);
  });
}

/** Reads a whole reply body within `limit` bytes, then calls `done` once (with a V1CallError when it fails). */
function readReply(res: IncomingMessage, call: string, address: PluginAddress, limit: number, done: (error: V1CallError | undefined, raw?: Buffer) => void): void {
  let first: Buffer | undefined;
  let more: Buffer[] | undefined;
  let total = 0;
  let settled = false;
  const finish = (error: V1CallError | undefined, raw?: Buffer): void => {
    if (settled) return;
    settled = true;
    done(error, raw);
  };
  capReply(
    res,
    call,
    limit,
    (chunk, size) => {
      total = size;
      if (first === undefined) first = chunk;
      else (more ??= [first]).push(chunk);
    },
    finish,
  );
  res.on("end", () => finish(undefined, more !== undefined ? Buffer.concat(more, total) : (first ?? emptyBuffer)));
  res.on("error", (error: Error) => finish(transportFailure(call, address, error, `while sending the reply of ${call}`, res.statusCode)));
  res.on("aborted", () => finish(new V1CallError("closed", call, `the plugin at ${formatPluginAddress(address)} closed the connection while sending the reply of ${call}`, res.statusCode)));
}

function errText(call: string, status: number, raw: Buffer): string {
  const text = raw.toString("utf8").trim();
  try {
    const parsed = JSON.parse(text) as { Err?: unknown };
    if (typeof parsed?.Err === "string" && parsed.Err !== "") return parsed.Err;
  } catch {
    // not JSON: the text itself is the message
  }
  return text || `${call} answered HTTP ${status} without a message`;
}

const emptyBuffer = Buffer.alloc(0);

/** What can cancel a call: an AbortSignal, or a host's call context (heard without making a signal). */
export type CallCancel = AbortSignal | AbortListenable;

function isSignal(cancel: CallCancel): cancel is AbortSignal {
  return !(abortListenerKey in cancel);
}

/** Starts hearing `cancel`; true (and not listening) when it is already aborted. */
function listen(cancel: CallCancel, onAbort: (reason: unknown) => void): boolean {
  if (!isSignal(cancel)) return cancel[abortListenerKey](onAbort);
  if (cancel.aborted) return true;
  cancel.addEventListener("abort", onAbort as () => void, { once: true });
  return false;
}

function unlisten(cancel: CallCancel, onAbort: (reason: unknown) => void): void {
  if (!isSignal(cancel)) cancel[abortListenerKey](undefined);
  else cancel.removeEventListener("abort", onAbort as () => void);
}

/** Whether `cancel` has aborted. */
export function isCancelled(cancel: CallCancel): boolean {
  return isSignal(cancel) ? cancel.aborted : cancel.signal.aborted;
}

function abortReason(cancel: CallCancel): unknown {
  return isSignal(cancel) ? cancel.reason : cancel.signal.reason;
}

/** Checks and parses a JSON reply: non-200, bad JSON, a non-object and a non-empty Err each become a V1CallError. */
function parseReply(call: string, status: number, raw: Buffer): Record<string, unknown> {
  if (status !== 200) throw new V1CallError("status", call, errText(call, status, raw), status);
  const text = raw.toString("utf8");
  let parsed: unknown;
  try {
    // JSON.parse skips the white space around a value itself; only an empty (or blank) body is read as {}
    parsed = JSON.parse(text);
  } catch (error) {
    const trimmed = text.trim();
    if (trimmed === "") return {};
    const shown = trimmed.length > 80 ? `${trimmed.slice(0, 80)}...` : trimmed;
    throw new V1CallError("protocol", call, `the reply of ${call} is not valid JSON (${(error as Error).message}): ${JSON.stringify(shown)}`, status);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new V1CallError("protocol", call, `the reply of ${call} must be a JSON object, got ${Array.isArray(parsed) ? "an array" : JSON.stringify(parsed)}`, status);
  }
  const err = (parsed as { Err?: unknown }).Err;
  if (err !== undefined && err !== null && err !== "") {
    throw new V1CallError("err", call, typeof err === "string" ? err : JSON.stringify(err), status);
  }
  return parsed as Record<string, unknown>;
}

/** A client of one plugin: pooled keep-alive connections, JSON and streamed calls. */
export class V1Client {
  readonly #agent: HttpAgent;
  readonly #address: PluginAddress;
  readonly #limit: number;
  readonly #request: typeof httpRequest;
  readonly #options: { readonly socketPath?: string; readonly host?: string; readonly port?: number };

  /** Creates a client of the plugin at `address`. */
  constructor(address: PluginAddress, options: V1ClientOptions = {}) {
    this.#address = address;
    this.#limit = options.maxReplyBytes ?? defaultMaxMessageBytes;
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 64, maxFreeSockets: options.maxSockets ?? 64, scheduling: "lifo" as const };
    if (address.kind === "tcp" && address.tls) {
      const tls = address.tls;
      const ca = tls.ca === undefined || tls.insecureSkipVerify === true ? undefined : [...rootCertificates, tls.ca.toString()];
      // one context made here: certificates given as options would be parsed again on every connection, and
      // https.Agent joins `ca` into its pool key on every request
      let secureContext: SecureContext;
      try {
        secureContext = createSecureContext({ ca, cert: tls.cert, key: tls.key });
      } catch (error) {
        const why = (error as { reason?: string }).reason ?? (error as Error).message;
        throw new Error(
          `the TLS settings for the plugin at ${formatPluginAddress(address)} are unusable (${why}): "CertFile" and "KeyFile" (PluginTlsOptions.cert and key) must be a PEM certificate and its unencrypted key, "CAFile" (ca) PEM certificates`,
          { cause: error },
        );
      }
      this.#agent = new HttpsAgent({ ...agentOptions, secureContext, rejectUnauthorized: tls.insecureSkipVerify !== true });
      this.#request = httpsRequest as unknown as typeof httpRequest;
    } else {
      this.#agent = new HttpAgent(agentOptions);
      this.#request = httpRequest;
    }
    this.#options = address.kind === "unix" ? { socketPath: address.socketPath } : { host: address.host, port: address.port };
  }

  /** Where this client connects. */
  get address(): PluginAddress {
    return this.#address;
  }

  #send(call: string, headers: Record<string, string | number>, signal: AbortSignal | undefined): { req: ClientRequest; response: Promise<IncomingMessage> } {
    const req = this.#request({ ...this.#options, agent: this.#agent, method: "POST", path: `/${call}`, headers: { Accept: pluginMediaType, ...headers } });
    // the signal is wired by hand: http.request's own `signal` option costs about a third of a round trip here
    const onAbort = (): void => void req.destroy(signal!.reason as Error);
    if (signal) {
      if (signal.aborted) onAbort();
      else {
        signal.addEventListener("abort", onAbort, { once: true });
        req.once("close", () => signal.removeEventListener("abort", onAbort));
      }
    }
    const response = new Promise<IncomingMessage>((resolve, reject) => {
      req.once("response", (res: IncomingMessage) => {
        if (signal) {
          const destroy = (): void => void res.destroy(signal.reason as Error);
          signal.addEventListener("abort", destroy, { once: true });
          res.once("close", () => signal.removeEventListener("abort", destroy));
        }
        resolve(res);
      });
      req.once("error", (error: NodeJS.ErrnoException) => {
        if (signal?.aborted) reject(signal.reason);
        else reject(transportFailure(call, this.#address, error, `during ${call}`));
      });
    });
    return { req, response };
  }

  /**
   * POSTs `body` as JSON (undefined: an empty body) and resolves with the parsed reply; rejects with a V1CallError,
   * or with the abort reason when `cancel` (an AbortSignal, or a host's call context) aborts the call.
   */
  call(call: string, body: unknown, cancel?: CallCancel): Promise<Record<string, unknown>> {
    const payload = body === undefined ? "" : JSON.stringify(body);
    return new Promise((resolve, reject) => this.#exchange(call, payload, cancel, resolve, reject, true));
  }

  /**
   * One request and its reply, with one listener per event and no promise of its own, so that the host's side
   * of a round trip costs little more than a bare http.request.
   */
  #exchange(
    call: string,
    payload: string,
    cancel: CallCancel | undefined,
    resolve: (reply: Record<string, unknown>) => void,
    reject: (error: unknown) => void,
    firstAttempt: boolean,
  ): void {
    let settled = false;
    let req: ClientRequest | undefined;
    const finish = (error: unknown, reply?: Record<string, unknown>): void => {
      if (settled) return;
      settled = true;
      if (cancel !== undefined) unlisten(cancel, onAbort);
      if (error === undefined) resolve(reply!);
      else reject(error);
    };
    const onAbort = (reason: unknown): void => {
      // an AbortSignal's listener is given the abort Event; the call rejects with the signal's reason
      finish(isSignal(cancel!) ? cancel.reason : reason);
      req?.destroy();
    };
    if (cancel !== undefined && listen(cancel, onAbort)) {
      settled = true;
      reject(abortReason(cancel));
      return;
    }
    const sent = (req = this.#request(this.#optionsOf(call, payload)));
    let answered = false;
    sent.on("response", (res: IncomingMessage) => {
      answered = true;
      readReply(res, call, this.#address, this.#limit, (error, raw) => {
        if (error !== undefined || settled) return finish(error);
        let reply: Record<string, unknown>;
        try {
          reply = parseReply(call, res.statusCode ?? 0, raw!);
        } catch (thrown) {
          finish(thrown);
          return;
        }
        finish(undefined, reply);
      });
    });
    sent.on("error", (error: NodeJS.ErrnoException) => {
      if (settled) return;
      const failure = transportFailure(call, this.#address, error, `during ${call}`);
      if (failure.kind === "closed" && firstAttempt && sent.reusedSocket && !answered) {
        // a pooled connection the plugin closed while idle: send once more on a fresh one
        settled = true;
        if (cancel !== undefined) unlisten(cancel, onAbort);
        this.#exchange(call, payload, cancel, resolve, reject, false);
        return;
      }
      finish(failure);
    });
    sent.end(payload);
  }

  /** The request options of one JSON call, with Docker's headers: Accept and Content-Length, no Content-Type. */
  #optionsOf(call: string, payload: string): RequestOptions {
    const options = this.#options;
    return {
      socketPath: options.socketPath,
      host: options.host,
      port: options.port,
      agent: this.#agent,
      method: "POST",
      path: `/${call}`,
      headers: { Accept: pluginMediaType, "Content-Length": payload.length === 0 ? 0 : Buffer.byteLength(payload) },
    };
  }

  /** Streams `body` to the plugin and resolves with the reply body as a stream once a 200 head arrived. */
  async stream(call: string, body: Readable, cancel?: CallCancel): Promise<Readable> {
    const signal = cancel === undefined || isSignal(cancel) ? cancel : cancel.signal;
    const { req, response } = this.#send(call, { "Content-Type": "application/octet-stream", "Transfer-Encoding": "chunked" }, signal);
    body.on("error", (error) => req.destroy(error));
    body.pipe(req);
    const res = await response;
    if (res.statusCode !== 200) {
      const raw = await new Promise<Buffer>((resolve, reject) => readReply(res, call, this.#address, this.#limit, (error, raw) => (error ? reject(error) : resolve(raw!))));
      throw new V1CallError("status", call, errText(call, res.statusCode ?? 0, raw), res.statusCode);
    }
    const out = new PassThrough();
    capReply(res, call, this.#limit, () => {}, (error) => out.destroy(error));
    res.on("aborted", () => out.destroy(new V1CallError("closed", call, `the plugin at ${formatPluginAddress(this.#address)} closed the connection while streaming the reply of ${call}`, 200)));
    res.on("error", (error) => out.destroy(transportFailure(call, this.#address, error, `while streaming the reply of ${call}`, 200)));
    res.pipe(out);
    return out;
  }

  /** Closes every pooled connection. */
  close(): void {
    this.#agent.destroy();
  }
}
