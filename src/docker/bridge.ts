/**
 * createDockerBridge: serves a hookplugins host to Docker Engine as one v1 plugin, an authorization plugin
 * (`authz`) and/or a volume driver (`VolumeDriver`), on /run/docker/plugins/<name>.sock by default.
 */
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Host } from "hookplugins";
import { dockerNameRule, isDockerName, listenV1Plugin, socketAccepts, type V1Handler, type V1PluginServer } from "hookplugins/external";
import { createAuthzHandlers, type AuthzStats, type OnChange } from "./authz.js";
import { createVolumeDriverHandlers } from "./volumeDriver.js";
import { VolumeStore } from "./volumeStore.js";

/** Where Docker Engine looks for plugin sockets. */
export const dockerPluginSocketDir = "/run/docker/plugins";

/** Options of createDockerBridge. */
export interface DockerBridgeOptions {
  /** The host whose plugins the bridge serves. */
  readonly host: Host;
  /** The Docker plugin name: `--authorization-plugin=<name>`, `docker volume create -d <name>`. */
  readonly name: string;
  /** Serve Docker's authorization plugin API (`authz`). */
  readonly authz?: boolean;
  /** Serve Docker's VolumeDriver API, keeping the volumes in `root` (one directory per volume). */
  readonly volumeDriver?: { readonly root: string };
  /** When plugins would change a create request: deny it (default), allow it with a warning, or allow it. */
  readonly onChange?: OnChange;
  /** The socket path; default `/run/docker/plugins/<name>.sock`. */
  readonly socket?: string;
  /** Longest time the plugins may take on one request before it is denied, in ms; default 10000. */
  readonly requestTimeoutMs?: number;
  /** Where `onChange: "warn"` writes; default stderr. */
  readonly warn?: (line: string) => void;
}

/** A running bridge. */
export interface DockerBridge {
  /** The Docker plugin name. */
  readonly name: string;
  /** The socket it listens on. */
  readonly socketPath: string;
  /** What `/Plugin.Activate` answers: "authz", "VolumeDriver". */
  readonly implements: readonly string[];
  /** The volumes, when it serves the VolumeDriver API. */
  readonly volumes: VolumeStore | undefined;
  /** Counts of authorization requests answered and denied. */
  readonly authzStats: AuthzStats;
  /** Stops serving (calls in flight finish), removes the socket and waits for pending volume state writes. */
  close(): Promise<void>;
}

/** The bridge cannot start: a bad option, or another process already serves the socket. */
export class DockerBridgeError extends Error {
  override name = "DockerBridgeError";
}


/** Starts serving `options.host` to Docker Engine; resolves once the socket accepts calls. */
export async function createDockerBridge(options: DockerBridgeOptions): Promise<DockerBridge> {
  const { host, name } = options;
  if (!isDockerName(name)) {
    throw new DockerBridgeError(`invalid Docker plugin name ${JSON.stringify(name)}: use ${dockerNameRule}`);
  }
  if (!options.authz && !options.volumeDriver) {
    throw new DockerBridgeError("the bridge serves nothing: enable the authorization plugin (authz) and/or the volume driver (volumeDriver)");
  }
  const onChange = options.onChange ?? "deny";
  if (!["deny", "warn", "allow"].includes(onChange)) {
    throw new DockerBridgeError(`onChange must be "deny", "warn" or "allow", got ${JSON.stringify(onChange)}`);
  }
  const socketPath = options.socket ?? join(dockerPluginSocketDir, `${name}.sock`);
  await mkdir(dirname(socketPath), { recursive: true, mode: 0o700 });
  if (await socketAccepts(socketPath)) {
    throw new DockerBridgeError(`another process already serves ${socketPath}; stop it or choose another --name or --socket`);
  }
  const implementsList: string[] = [];
  const handlers: Record<string, V1Handler> = {};
  const authz = createAuthzHandlers({ host, onChange, ...(options.requestTimeoutMs !== undefined && { requestTimeoutMs: options.requestTimeoutMs }), ...(options.warn && { warn: options.warn }) });
  if (options.authz) {
    implementsList.push("authz");
    Object.assign(handlers, authz.handlers);
  }
  let volumes: VolumeStore | undefined;
  if (options.volumeDriver) {
    volumes = await VolumeStore.open(options.volumeDriver.root);
    implementsList.push("VolumeDriver");
    Object.assign(
      handlers,
      createVolumeDriverHandlers({ host, driverName: name, store: volumes, ...(options.requestTimeoutMs !== undefined && { requestTimeoutMs: options.requestTimeoutMs }) }),
    );
  }
  const server: V1PluginServer = await listenV1Plugin({ socket: socketPath, implements: implementsList, handlers });
  let closing: Promise<void> | undefined;
  return {
    name,
    socketPath,
    implements: implementsList,
    volumes,
    authzStats: authz.stats,
    close: () =>
      (closing ??= (async () => {
        await server.close();
        await volumes?.idle();
      })()),
  };
}
