/**
 * A CRI client for tests, generated at run time from the CRI proto this repository keeps (kubernetes/cri-api v0.25.0,
 * src/cri/proto/runtime/<version>/api.proto) with @grpc/grpc-js and @grpc/proto-loader: what crictl and the kubelet
 * speak. Calls return promises; a failed call rejects with grpc-js's ServiceError (code, details).
 */
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

/** A CRI API version the proto files hold. */
export type CriVersion = "v1" | "v1alpha2";

/** A failed call as grpc-js reports it. */
export type CallError = grpc.ServiceError;

/** Options of one call. */
export interface CallOptions {
  /** Deadline in ms from now. */
  readonly timeoutMs?: number;
  /** Metadata sent with the call. */
  readonly metadata?: Record<string, string>;
  /** Cancels the call when aborted. */
  readonly signal?: AbortSignal;
}

/** A client of RuntimeService and ImageService on one socket. */
export interface CriClient {
  /** Calls RuntimeService.<method>. */
  runtime<T = Record<string, unknown>>(method: string, request: object, options?: CallOptions): Promise<T>;
  /** Calls ImageService.<method>. */
  image<T = Record<string, unknown>>(method: string, request: object, options?: CallOptions): Promise<T>;
  /** Closes both channels. */
  close(): void;
}

const loaded = new Map<CriVersion, grpc.GrpcObject>();

function packageOf(version: CriVersion): grpc.GrpcObject {
  let pkg = loaded.get(version);
  if (!pkg) {
    const path = fileURLToPath(new URL(`../../src/cri/proto/runtime/${version}/api.proto`, import.meta.url));
    const definition = protoLoader.loadSync(path, { keepCase: true, longs: Number, enums: Number, defaults: true, arrays: true, objects: false });
    pkg = (grpc.loadPackageDefinition(definition)["runtime"] as grpc.GrpcObject)[version] as grpc.GrpcObject;
    loaded.set(version, pkg);
  }
  return pkg;
}

type Unary = (request: object, metadata: grpc.Metadata, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null, reply: unknown) => void) => grpc.ClientUnaryCall;

/** A client for the CRI socket at `socketPath`. */
export function criClient(socketPath: string, version: CriVersion = "v1"): CriClient {
  const pkg = packageOf(version);
  const channelOptions = { "grpc.max_receive_message_length": 32 * 1024 * 1024, "grpc.max_send_message_length": 32 * 1024 * 1024 };
  const make = (name: string): grpc.Client =>
    new (pkg[name] as grpc.ServiceClientConstructor)(`unix://${socketPath}`, grpc.credentials.createInsecure(), channelOptions);
  const runtime = make("RuntimeService");
  const image = make("ImageService");
  const invoke = (client: grpc.Client, method: string, request: object, options: CallOptions = {}): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const metadata = new grpc.Metadata();
      for (const [k, v] of Object.entries(options.metadata ?? {})) metadata.set(k, v);
      const fn = (client as unknown as Record<string, Unary>)[method];
      if (!fn) throw new Error(`no method ${method}`);
      const call = fn.call(client, request, metadata, options.timeoutMs !== undefined ? { deadline: Date.now() + options.timeoutMs } : {}, (error, reply) => (error ? reject(error) : resolve(reply)));
      options.signal?.addEventListener("abort", () => call.cancel(), { once: true });
    });
  return {
    runtime: (method, request, options) => invoke(runtime, method, request, options) as never,
    image: (method, request, options) => invoke(image, method, request, options) as never,
    close() {
      runtime.close();
      image.close();
    },
  };
}

/** A host-network pod's sandbox config (no CNI here; no hostname: it shares the host's UTS namespace). */
export function podConfig(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    metadata: { name, uid: `uid-${name}`, namespace: "default", attempt: 0 },
    log_directory: "",
    linux: { security_context: { namespace_options: { network: 2 } } },
    ...extra,
  };
}

/** A container config running `sleep 3600` in `image`. */
export function containerConfig(name: string, image: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { metadata: { name, attempt: 0 }, image: { image }, command: ["/bin/sleep", "3600"], ...extra };
}
