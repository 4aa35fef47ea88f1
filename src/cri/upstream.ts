/**
 * The runtime the relay forwards to: one HTTP/2 connection over its UNIX socket, opened on first use and opened again
 * after it closed (the runtime restarted), and unary calls of the relay's own (ImageStatus, Status).
 */
import { connect as connectHttp2, constants, type ClientHttp2Session, type ClientHttp2Stream, type OutgoingHttpHeaders } from "node:http2";
import { connect as connectSocket } from "node:net";
import { CriStatusError, decodeGrpcMessage, formatGrpcTimeout, frameMessage, GrpcStatus, unframeSingle, type GrpcStatusCode } from "./grpcWire.js";

/** The runtime address is not a UNIX socket address. */
export class CriUpstreamAddressError extends Error {
  override name = "CriUpstreamAddressError";
}

/** The socket path of `unix:///path` (or a bare absolute path). */
export function parseCriUpstream(address: string): string {
  const path = address.startsWith("unix://") ? address.slice("unix://".length) : address;
  if (!path.startsWith("/")) {
    throw new CriUpstreamAddressError(`the runtime address ${JSON.stringify(address)} is not a UNIX socket; give unix:///run/containerd/containerd.sock or an absolute path`);
  }
  return path;
}

/** The connection each call was opened on (a destroyed stream no longer says), on the call itself: no WeakMap per call. */
const kSessionOf = Symbol("hookplugins.cri.session");
type Opened = ClientHttp2Stream & { [kSessionOf]?: ClientHttp2Session };

/**
 * Why a call on the runtime ended with no gRPC status, from its stream's `error` (if any): the connection's own error
 * (`connect ECONNREFUSED <path>`: nothing listens; `connect ENOENT <path>`: no socket file), the connection closing in
 * the middle of the call (the runtime died), or the runtime resetting the call.
 */
export function whyCallFailed(call: ClientHttp2Stream, error: Error | undefined): string {
  if (error?.cause instanceof Error) return error.cause.message;
  const session = (call as Opened)[kSessionOf];
  if (!session || session.destroyed || session.closed) return "the connection closed during the call";
  if (error) return error.message;
  return `the runtime reset the call (HTTP/2 code ${call.rstCode ?? "none"})`;
}

/** HTTP/2 settings of both sides: windows large enough for 16 MiB messages without a stall per 64 KiB. */
export const http2Settings = { initialWindowSize: 4 * 1024 * 1024, maxFrameSize: 1024 * 1024 } as const;

/** What the relay needs of the runtime's connection. */
export class CriUpstream {
  /** The socket path. */
  readonly path: string;
  /** `unix://<path>`. */
  readonly address: string;
  private session: ClientHttp2Session | undefined;
  private lastError: Error | undefined;
  /** How many connections have been opened so far: a new one may be a restarted runtime, with another config. */
  connections = 0;

  /** The runtime at `address` (`unix:///path`). */
  constructor(address: string) {
    this.path = parseCriUpstream(address);
    this.address = `unix://${this.path}`;
  }

  private connection(): ClientHttp2Session {
    const current = this.session;
    if (current && !current.closed && !current.destroyed) return current;
    const session = connectHttp2("http://localhost", {
      createConnection: () => connectSocket(this.path),
      settings: http2Settings,
      maxSessionMemory: 256,
    });
    session.on("connect", () => {
      this.lastError = undefined;
      session.setLocalWindowSize(64 * 1024 * 1024);
    });
    session.on("error", (error: Error) => {
      this.lastError = error;
    });
    const forget = (): void => {
      if (this.session === session) this.session = undefined;
    };
    session.on("close", forget);
    session.on("goaway", forget);
    session.unref();
    this.session = session;
    this.connections++;
    return session;
  }

  /** The status of a call the runtime did not answer: UNAVAILABLE (the kubelet retries), naming the socket, why (`detail`) and what to check. */
  unavailable(detail?: string): CriStatusError {
    const why = detail ?? this.lastError?.message ?? "the connection closed";
    return new CriStatusError(
      GrpcStatus.UNAVAILABLE,
      `hookplugins cri-proxy: the container runtime at ${this.address} is not answering (${why}); check that it is running and listens there (the relay connects again on the next call)`,
    );
  }

  /** Opens a call on the runtime with `headers` (pseudo-headers :method and :path included). */
  request(headers: OutgoingHttpHeaders): ClientHttp2Stream {
    const session = this.connection();
    // no options: POST's default is endStream false, and an options object costs request() a validation of its own
    const call: Opened = session.request(headers);
    call[kSessionOf] = session;
    return call;
  }

  /** A unary call of the relay's own: `path` with `payload`; resolves with the reply message, rejects with CriStatusError. */
  unary(path: string, payload: Uint8Array, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      let call: ClientHttp2Stream;
      try {
        call = this.request({
          ":method": "POST",
          ":path": path,
          "content-type": "application/grpc",
          te: "trailers",
          ...(options.timeoutMs !== undefined && { "grpc-timeout": formatGrpcTimeout(options.timeoutMs) }),
        });
      } catch (error) {
        reject(this.unavailable((error as Error).message));
        return;
      }
      const chunks: Buffer[] = [];
      let status: GrpcStatusCode | number | undefined;
      let message = "";
      const take = (headers: Record<string, unknown>): void => {
        if (headers["grpc-status"] !== undefined) {
          status = Number(headers["grpc-status"]);
          message = decodeGrpcMessage(String(headers["grpc-message"] ?? ""));
        }
      };
      const abort = (): void => void call.close(constants.NGHTTP2_CANCEL);
      options.signal?.addEventListener("abort", abort, { once: true });
      call.on("response", take);
      call.on("trailers", take);
      call.on("data", (chunk: Buffer) => chunks.push(chunk));
      let failure: Error | undefined;
      call.on("error", (error: Error) => (failure = error));
      call.on("close", () => {
        options.signal?.removeEventListener("abort", abort);
        if (status === undefined) reject(options.signal?.aborted ? new CriStatusError(GrpcStatus.CANCELLED, "cancelled") : this.unavailable(whyCallFailed(call, failure)));
        else if (status !== 0) reject(new CriStatusError(status as GrpcStatusCode, `${path}: ${message}`));
        else {
          try {
            resolve(unframeSingle(Buffer.concat(chunks), undefined, path));
          } catch (error) {
            reject(error as Error);
          }
        }
      });
      call.end(frameMessage(payload));
    });
  }

  /** Closes the connection. */
  close(): void {
    this.session?.close();
    this.session = undefined;
  }
}
