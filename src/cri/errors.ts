/**
 * What the CRI relay answers when plugins fail: the gRPC status a kubelet shows in the pod's events
 * (`CreateContainerError`, `ErrImagePull`), with the plugin, the hook and the fix in its message.
 */
import { PluginAbortedError, PluginHookError, type HookName, type LeafChange } from "hookplugins";
import { criDockerMapping } from "./dockerMapping.js";
import { CriStatusError, GrpcStatus } from "./grpcWire.js";

/** A plugin changed a Docker-style field that has no CRI field in the mapping; the relay refuses rather than drop it. */
export class CriMappingError extends PluginHookError {
  override name = "CriMappingError";
  /** The fields (JSON pointers into the Docker-style config) that cannot reach the runtime. */
  readonly fields: readonly string[];

  /** The error for `plugin`'s changes `changes` in `hook`. */
  constructor(plugin: string, hook: HookName, changes: readonly LeafChange[]) {
    const fields = changes.map((c) => c.pointer);
    const named = fields.map((f) => f.slice(1).replace(/\//g, ".")).join(", ");
    const mapped = criDockerMapping.map((m) => m.docker.slice(1).replace(/\//g, ".")).join(", ");
    const cause = new Error(`it changed ${named}, which the CRI relay cannot pass to the runtime (it maps only ${mapped}); set it in the pod spec instead, or change the plugin to leave it alone on Kubernetes nodes`);
    super(plugin, hook, cause);
    this.fields = fields;
  }
}

/** Appends where the Docker-style fields a message names live in CRI's config: `[CRI: HostConfig.Privileged is linux.security_context.privileged]`. */
export function withCriFieldNames(message: string): string {
  const hints = criDockerMapping
    .map((m) => ({ docker: m.docker.slice(1).replace(/\//g, "."), cri: m.cri }))
    .filter((m) => m.docker.startsWith("HostConfig.") && new RegExp(`\\b${m.docker.replace(/\./g, "\\.")}\\b`).test(message))
    .map((m) => `${m.docker} is ${m.cri}`);
  return hints.length ? `${message} [CRI: ${hints.join("; ")}]` : message;
}

/** The status a failed interceptor answers with: plugin failures FAILED_PRECONDITION, cancellations CANCELLED. */
export function criStatusOf(error: unknown): CriStatusError {
  if (error instanceof CriStatusError) return error;
  if (error instanceof PluginAbortedError) return new CriStatusError(GrpcStatus.CANCELLED, error.message, { cause: error });
  if (error instanceof PluginHookError) return new CriStatusError(GrpcStatus.FAILED_PRECONDITION, withCriFieldNames(error.message), { cause: error });
  const message = error instanceof Error ? error.message : String(error);
  return new CriStatusError(GrpcStatus.INTERNAL, `hookplugins cri-proxy: ${message}`, { cause: error });
}
