/**
 * CreateContainer (runtime.v1 and v1alpha2, whose messages are the same): CriPlugin.preCreateContainer on CRI's own
 * config, then ContainerPlugin.preCreate on its Docker-style view (dockerMapping.ts), then the request with only the
 * changed fields re-encoded. Policy-like plugins at the lowest priority so see the final config.
 */
import type { AuditEntry, CriContainerConfig, CriHostTypes, CriSandboxMeta, Host, HostTypes } from "hookplugins";
import { criSchema } from "./criSchema.generated.js";
import { applyDockerChanges, toDockerConfig } from "./dockerMapping.js";
import { CriMappingError } from "./errors.js";
import { decodeMessage, rewriteMessage, type DecodedMessage } from "./protoCodec.js";
import type { Interceptor } from "./relayServer.js";

/** The CreateContainer interceptor over `host`'s plugins. */
export function createContainerInterceptor(host: Host<HostTypes>): Interceptor {
  const criHost = host as unknown as Host<CriHostTypes>;
  return {
    async request(payload, call) {
      // decoded twice: plugins change `request` in place, and `original` stays as it came, for the rewrite
      const original = decodeMessage(criSchema, "CreateContainerRequest", payload);
      const request = decodeMessage(criSchema, "CreateContainerRequest", payload);
      const meta: CriSandboxMeta = { ID: (request["pod_sandbox_id"] as string | undefined) ?? "", Config: (request["sandbox_config"] as CriSandboxMeta["Config"] | undefined) ?? {} };
      const options = { signal: call.signal };
      const config = await criHost.cri.preCreateContainer((request["config"] ?? {}) as CriContainerConfig, meta, options);
      // two views of the same config: the plugins change the second; the first says what they changed
      const docker = toDockerConfig(config);
      const audit: AuditEntry[] = [];
      const result = await host.container.preCreate(toDockerConfig(config), { ...options, audit });
      const unmapped = applyDockerChanges(config, docker, result);
      if (unmapped.length) {
        const by = [...audit].reverse().find((entry) => unmapped.some((c) => c.pointer === entry.pointer || c.pointer.startsWith(`${entry.pointer}/`) || entry.pointer.startsWith(`${c.pointer}/`)));
        throw new CriMappingError(by?.plugin ?? "(unknown)", "ContainerPlugin.preCreate", unmapped);
      }
      return rewriteMessage(criSchema, "CreateContainerRequest", payload, original, { ...original, config: config as DecodedMessage });
    },
  };
}
