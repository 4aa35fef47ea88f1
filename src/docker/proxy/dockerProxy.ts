/**
 * createDockerProxy: a Docker Engine API proxy that runs a host's plugins at every hook point the API reaches. The
 * docker CLI, compose and SDKs point `DOCKER_HOST` at it; container creates, starts and updates, volume creates, image
 * pulls and loads go through the plugins and then to the engine (dockerd or Podman's Docker-compatible service);
 * everything else passes byte for byte. `ContainerPlugin.postStart` runs after each start made through it, and
 * `onExit` after each exit of the engine's containers, from one subscription to the engine's events. `DaemonPlugin.preStartHook` runs before it accepts connections, and
 * `preStopHook` (reverse order) once the requests in flight have finished.
 */
import { rm, stat } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import type { HandlerSpec, Host } from "hookplugins";
import { defaultHandoffDir, sweepHandoffs } from "hookplugins/runtime";
import { ContainerOrder } from "./containerOrder.js";
import { errorMessage } from "./errorResponse.js";
import { ExitWatcher } from "./exitWatcher.js";
import { createRelayServer, type RelayServer } from "./relay.js";
import type { UpstreamAddress } from "./routeTypes.js";
import { builtinRoutes, matcherOf } from "./routes/routeTable.js";
import { RuntimeCheck } from "./routes/runtimeCheck.js";
import type { RouteContext } from "./routes/context.js";
import { formatUpstreamAddress, parseUpstreamAddress } from "./upstreamAddress.js";
import { UpstreamClient } from "./upstreamClient.js";

/** TLS of a TCP listener: the server's certificate and key, and the CA that client certificates must chain to (PEM). */
export interface ProxyTls {
  /** CA certificate(s) clients' certificates are checked against (PEM). */
  readonly ca: string | Buffer;
  /** The proxy's certificate (PEM). */
  readonly cert: string | Buffer;
  /** Its private key (PEM). */
  readonly key: string | Buffer;
}

/** Options of createDockerProxy. */
export interface DockerProxyOptions {
  /** The host whose plugins run. */
  readonly host: Host;
  /** A UNIX socket path, or a TCP port (with TLS and client certificates: never plain TCP). */
  readonly listen: string | { readonly port: number; readonly host?: string; readonly tls: ProxyTls };
  /** The engine: `unix:///var/run/docker.sock`, `tcp://host:port`, or an address object. */
  readonly upstream: string | UpstreamAddress;
  /** Where prestart hand-offs for the runtime wrapper go (default /run/hookplugins/prestart). */
  readonly handoffDir?: string;
  /** Writes the proxy's lines: each change the plugins made, warnings (default: stderr). */
  readonly log?: (line: string) => void;
  /** Time allowed for a request head, in ms (default 60000). */
  readonly headersTimeoutMs?: number;
  /** Run DaemonPlugin.preStartHook before listening and preStopHook on close (default true). */
  readonly daemonHooks?: boolean;
  /**
   * Run ContainerPlugin.postStart after starts and onExit from a subscription to the engine's events: true always,
   * false never; by default each when a plugin implements it (host.explain() lists one), else the proxy neither
   * inspects started containers nor subscribes.
   */
  readonly observers?: boolean;
}

/** A running proxy. */
export interface DockerProxy {
  /** Where it listens: `unix:///path` or `tcp://host:port`. */
  readonly address: string;
  /** The engine it serves: `unix:///var/run/docker.sock`, ... */
  readonly upstream: string;
  /** Its route table after APIPlugin.updateHandler (the hook-point routes, plugins' routes, the catch-all). */
  readonly routes: readonly HandlerSpec[];
  /**
   * Stops accepting, lets requests in flight finish (up to `graceMs`, default 30000), ends the event subscription,
   * waits for the postStart and onExit calls under way, runs preStopHook, removes the socket.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

/** A proxy that cannot start: a bad option, a socket another process serves, a plugin that failed to start. */
export class DockerProxyError extends Error {
  override name = "DockerProxyError";
}

/** The mode and group of the proxy's socket: the engine socket's group with 0660, else 0600 (never wider). */
async function socketAccess(upstream: UpstreamAddress): Promise<{ mode: number; gid?: number }> {
  if (upstream.kind !== "unix") return { mode: 0o600 };
  const info = await stat(upstream.path).catch(() => undefined);
  // connecting needs write permission: a group that cannot write to the engine's socket gets nothing here either
  if (!info || (info.mode & 0o020) === 0) return { mode: 0o600 };
  return { mode: 0o660, gid: info.gid };
}

/** Whether a plugin of `host` implements hook point `hook` (enabled now or not). */
function implemented(host: Host, hook: string): boolean {
  return ((host.explain() as Record<string, readonly unknown[] | undefined>)[hook]?.length ?? 0) > 0;
}

/** Starts the proxy; resolves once it accepts connections. */
export async function createDockerProxy(options: DockerProxyOptions): Promise<DockerProxy> {
  const upstream = typeof options.upstream === "string" ? parseUpstreamAddress(options.upstream) : options.upstream;
  const listen = options.listen;
  if (typeof listen !== "string" && (!listen.tls?.ca || !listen.tls.cert || !listen.tls.key)) {
    throw new DockerProxyError("a TCP listener needs TLS with client certificates (tls: { ca, cert, key }), as dockerd's --tlsverify; listen on a UNIX socket otherwise");
  }
  const log = options.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const handoffDir = options.handoffDir ?? defaultHandoffDir;
  const daemonHooks = options.daemonHooks !== false;
  if (daemonHooks) await options.host.daemon.preStart();
  // after the start hooks: a failing one leaves nothing open
  const engine = new UpstreamClient(upstream);
  const order = new ContainerOrder();
  const ctx: RouteContext = { host: options.host, engine, handoffDir, log, order, postStart: options.observers ?? implemented(options.host, "ContainerPlugin.postStart") };
  const exits = options.observers ?? implemented(options.host, "ContainerPlugin.onExit") ? new ExitWatcher({ engine, host: options.host, order, log }) : undefined;
  let server: RelayServer | undefined;
  let routes: HandlerSpec[];
  try {
    // hand-offs of starts that never reached a runtime (a proxy killed mid-start)
    await sweepHandoffs(handoffDir, 10 * 60_000).catch(() => undefined);
    const { specs, passthrough } = builtinRoutes(ctx, new RuntimeCheck(engine, upstream.kind === "unix"));
    routes = await options.host.api.updateHandler(specs);
    server = createRelayServer({
      upstream,
      routes: matcherOf(routes, passthrough),
      ...(options.headersTimeoutMs !== undefined && { headersTimeoutMs: options.headersTimeoutMs }),
      ...(typeof listen !== "string" && { tls: { ca: listen.tls.ca, cert: listen.tls.cert, key: listen.tls.key, requestCert: true, rejectUnauthorized: true } }),
      onError: (error) => log(`hookplugins docker-proxy: ${errorMessage(error)}`),
    });
    // subscribed before the first request: no exit of a container started through the proxy is missed
    await exits?.start();
    if (typeof listen === "string") await server.listen(listen, await socketAccess(upstream));
    else await server.listen({ port: listen.port, host: listen.host ?? "127.0.0.1" });
  } catch (error) {
    await server?.close({ graceMs: 0 }).catch(() => undefined);
    await exits?.close();
    engine.close();
    if (daemonHooks) await options.host.daemon.preStop().catch(() => undefined);
    throw error instanceof Error && error.name === "SocketFileError" ? new DockerProxyError(error.message, { cause: error }) : error;
  }
  const tcp = typeof listen === "string" ? undefined : (server.server.address() as AddressInfo);
  const running = server;
  let closing: Promise<void> | undefined;
  return {
    address: tcp ? `tcp://${tcp.address}:${tcp.port}` : `unix://${listen as string}`,
    upstream: formatUpstreamAddress(upstream),
    routes,
    close: (closeOptions) =>
      (closing ??= (async () => {
        await running.close({ graceMs: closeOptions?.graceMs ?? 30_000 });
        await exits?.close();
        await order.idle();
        engine.close();
        if (typeof listen === "string") await rm(listen, { force: true });
        if (daemonHooks) await options.host.daemon.preStop();
      })()),
  };
}
