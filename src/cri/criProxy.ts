/**
 * createCriProxy: a CRI relay between the kubelet (or crictl) and containerd. CreateContainer runs the plugins
 * (CriPlugin.preCreateContainer on CRI's config, ContainerPlugin.preCreate on its Docker-style view), PullImage runs
 * ImagePlugin.postPull; every other call of every service (runtime.v1, runtime.v1alpha2, anything else on the socket)
 * is relayed as it comes. DaemonPlugin.preStartHook runs before it accepts calls, preStopHook when it closes.
 */
import { rm } from "node:fs/promises";
import type { Host, HostTypes } from "hookplugins";
import { listenOnSocket } from "hookplugins/external";
import { createContainerInterceptor } from "./createContainer.js";
import { criStatusOf } from "./errors.js";
import { pullImageInterceptor } from "./pullImage.js";
import { createRelayServer, type Interceptor, type RelayServer } from "./relayServer.js";
import { CriUpstream } from "./upstream.js";

/** The kubelet's own message size limit (16 MiB), the relay's default for the requests it reads. */
export const kubeletMaxMessageBytes = 16 * 1024 * 1024;

/** The services whose CreateContainer and PullImage the relay intercepts (their messages are the same). */
export const criApiVersions = ["runtime.v1", "runtime.v1alpha2"] as const;

/** Options of createCriProxy. */
export interface CriProxyOptions {
  /** The host whose plugins run (a host over a project: loadProjectHost; or createHost over your registry). */
  readonly host: Host<HostTypes>;
  /** The UNIX socket the kubelet and crictl connect to (`--container-runtime-endpoint unix://<listen>`); mode 0600. */
  readonly listen: string;
  /**
   * containerd's socket: `unix:///run/containerd/containerd.sock` (or the path). containerd need not be up when the
   * relay starts, and may restart under it: while it is not answering, calls get UNAVAILABLE naming the socket (the
   * kubelet retries), and the next call after it is back connects again.
   */
  readonly upstream: string;
  /** Writes the relay's lines (warnings) (default: stderr). */
  readonly log?: (line: string) => void;
  /** Run DaemonPlugin.preStartHook before listening and preStopHook on close (default true). */
  readonly daemonHooks?: boolean;
  /** The largest CreateContainer or PullImage request the relay reads, in bytes (default 16 MiB, as the kubelet). */
  readonly maxMessageBytes?: number;
  /** The snapshotter postPull names (default: the runtime's, from its verbose Status; "overlayfs" when it says none). */
  readonly snapshotter?: string;
}

/** A running relay. */
export interface CriProxy {
  /** Where it listens: `unix:///path`. */
  readonly address: string;
  /** The runtime it relays to: `unix:///path`. */
  readonly upstream: string;
  /** Stops accepting calls, lets calls in flight finish (up to `graceMs`, default 10000), runs preStopHook, removes the socket. */
  close(options?: { graceMs?: number }): Promise<void>;
}

/** A relay that cannot start: a bad option, a socket another process serves, a plugin that failed to start. */
export class CriProxyError extends Error {
  override name = "CriProxyError";
}

/** Starts the relay; resolves once it accepts calls. */
export async function createCriProxy(options: CriProxyOptions): Promise<CriProxy> {
  if (!options.listen.replace(/^unix:\/\//, "").startsWith("/")) throw new CriProxyError(`listen must be an absolute socket path (or unix:///path), got ${JSON.stringify(options.listen)}`);
  const listen = options.listen.replace(/^unix:\/\//, "");
  let upstream: CriUpstream;
  try {
    upstream = new CriUpstream(options.upstream);
  } catch (error) {
    throw new CriProxyError((error as Error).message, { cause: error });
  }
  const maxMessageBytes = options.maxMessageBytes ?? kubeletMaxMessageBytes;
  if (!Number.isSafeInteger(maxMessageBytes) || maxMessageBytes < kubeletMaxMessageBytes) {
    throw new CriProxyError(`maxMessageBytes must be a whole number of bytes >= ${kubeletMaxMessageBytes} (the kubelet's limit), got ${String(maxMessageBytes)}`);
  }
  const log = options.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const host = options.host;
  const interceptors = new Map<string, Interceptor>();
  const create = createContainerInterceptor(host);
  const pull = pullImageInterceptor(host, upstream, options.snapshotter);
  for (const version of criApiVersions) {
    interceptors.set(`/${version}.RuntimeService/CreateContainer`, create);
    interceptors.set(`/${version}.ImageService/PullImage`, pull);
  }
  const daemonHooks = options.daemonHooks !== false;
  if (daemonHooks) await host.daemon.preStart();
  let relay: RelayServer | undefined;
  try {
    relay = createRelayServer({ upstream, interceptors, maxMessageBytes, statusOf: criStatusOf, log });
    await listenOnSocket(relay.server, listen, { mode: 0o600 });
  } catch (error) {
    upstream.close();
    if (daemonHooks) await host.daemon.preStop().catch(() => undefined);
    throw error instanceof Error && error.name === "SocketFileError" ? new CriProxyError(error.message, { cause: error }) : error;
  }
  const running = relay;
  let closing: Promise<void> | undefined;
  return {
    address: `unix://${listen}`,
    upstream: upstream.address,
    close: (closeOptions) =>
      (closing ??= (async () => {
        const closed = new Promise<void>((resolve) => running.server.close(() => resolve()));
        await running.closeSessions(closeOptions?.graceMs ?? 10_000);
        await closed;
        upstream.close();
        await rm(listen, { force: true });
        if (daemonHooks) await host.daemon.preStop();
      })()),
  };
}
