/**
 * The relay: a connection listener for a net.Server or tls.Server (created with `allowHalfOpen: true`) that passes
 * Docker Engine API requests to the engine byte for byte and serves matched routes in process, and
 * `createRelayServer`, which makes such a server. `close()` stops accepting, lets requests in flight (and tunnels)
 * finish within a bound, then destroys what is left.
 */
import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import { createServer as createTlsServer, type TlsOptions, type Server as TlsServer } from "node:tls";
import { listenOnSocket, type SocketFileOptions } from "hookplugins/external";
import { defaultMaxHeadBytes } from "./http1Parser.js";
import { InProcessServer, type RouteHandlerError } from "./inProcessServer.js";
import { RelayConnection, type RelayConnectionContext } from "./relayConnection.js";
import { noRoutes } from "./routeMatcher.js";
import type { RouteMatcher, UpstreamAddress } from "./routeTypes.js";
import { formatUpstreamAddress } from "./upstreamAddress.js";

/** Options of a relay. */
export interface RelayOptions {
  /** Where the engine listens. */
  readonly upstream: UpstreamAddress;
  /** The in-process routes (see compileRoutes); default none: every request passes to the engine. */
  readonly routes?: RouteMatcher;
  /** Time allowed for a request head, from the connection's start or the head's first byte, in ms; default 60000 (0: none). */
  readonly headersTimeoutMs?: number;
  /** Time a kept-alive connection may wait for its next request, in ms; default 0 (none, as dockerd). */
  readonly idleTimeoutMs?: number;
  /** Largest request head, in bytes (larger: 431); default 65536. */
  readonly maxHeadBytes?: number;
  /** Time allowed to connect to the engine, in ms; default 10000 (0: none). */
  readonly connectTimeoutMs?: number;
  /** Time a connection being closed waits for its peer to close before it is destroyed, in ms; default 5000. */
  readonly lingerMs?: number;
  /** Told about route handler failures and the engine's protocol errors (clients get their answers either way). */
  readonly onError?: (error: Error) => void;
}

/** Options of Relay#close. */
export interface RelayCloseOptions {
  /** How long requests in flight and tunnels may run on, in ms, before they are destroyed; default 30000. */
  readonly graceMs?: number;
}

/** The relay's connection listener, with its connections and their shutdown. */
export class Relay {
  /** Pass to `server.on("connection", ...)` (net.Server) or `server.on("secureConnection", ...)` (tls.Server). */
  readonly handleConnection: (socket: Socket) => void;
  private readonly connections = new Set<RelayConnection>();
  private readonly context: RelayConnectionContext;
  private closing: Promise<void> | undefined;
  private idle: (() => void) | undefined;

  /** A relay to `options.upstream`. */
  constructor(options: RelayOptions) {
    const maxHeadBytes = options.maxHeadBytes ?? defaultMaxHeadBytes;
    const report = options.onError ?? ((): void => undefined);
    this.context = {
      upstream: options.upstream,
      upstreamUrl: formatUpstreamAddress(options.upstream),
      routes: options.routes ?? noRoutes,
      inProcess: new InProcessServer({ maxHeadBytes, onHandlerError: (error: RouteHandlerError) => report(error) }),
      headersTimeoutMs: options.headersTimeoutMs ?? 60_000,
      idleTimeoutMs: options.idleTimeoutMs ?? 0,
      maxHeadBytes,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      lingerMs: options.lingerMs ?? 5_000,
      report,
    };
    this.handleConnection = (socket: Socket): void => {
      if (this.closing) {
        socket.destroy();
        return;
      }
      const connection = new RelayConnection(socket, this.context, (c) => {
        this.connections.delete(c);
        if (this.connections.size === 0) this.idle?.();
      });
      this.connections.add(connection);
    };
  }

  /** Client connections open now. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /**
   * Stops taking connections (the caller closes its server), closes idle ones, lets requests in flight and tunnels
   * finish for up to `graceMs`, then destroys the rest. Resolves when every connection is gone.
   */
  close(options: RelayCloseOptions = {}): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        for (const c of [...this.connections]) c.destroy();
      }, options.graceMs ?? 30_000);
      this.idle = done;
      for (const c of [...this.connections]) c.shutdown();
      if (this.connections.size === 0) done();
    });
    return this.closing;
  }
}

/** Options of createRelayServer. */
export interface RelayServerOptions extends RelayOptions {
  /** Serve TLS with these options (certificate, key, client CA...); default plain. */
  readonly tls?: TlsOptions;
}

/** A server running a relay. */
export interface RelayServer {
  /** The server (net.Server, or tls.Server with `tls`); listen with `listen()` or on it directly. */
  readonly server: NetServer | TlsServer;
  /** The relay behind it. */
  readonly relay: Relay;
  /** Listens on a UNIX socket path (as listenOnSocket: a stale socket removed, `socket` mode and group) or a TCP port (host optional); resolves once listening. */
  listen(where: string | { port: number; host?: string }, socket?: SocketFileOptions): Promise<void>;
  /** Stops listening and closes the relay (see Relay#close). */
  close(options?: RelayCloseOptions): Promise<void>;
}

/** Makes a server (created with `allowHalfOpen: true`) whose connections the relay serves. */
export function createRelayServer(options: RelayServerOptions): RelayServer {
  const relay = new Relay(options);
  let server: NetServer | TlsServer;
  if (options.tls) {
    server = createTlsServer({ ...options.tls, allowHalfOpen: true });
    server.on("secureConnection", relay.handleConnection);
  } else {
    server = createNetServer({ allowHalfOpen: true });
    server.on("connection", relay.handleConnection);
  }
  return {
    server,
    relay,
    listen(where, socket) {
      if (typeof where === "string") return listenOnSocket(server, where, socket);
      return new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen({ port: where.port, ...(where.host !== undefined && { host: where.host }), backlog: 1024 }, () => {
          server.off("error", reject);
          resolve();
        });
      });
    },
    async close(closeOptions) {
      const stopped = new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
      });
      await relay.close(closeOptions);
      await stopped;
    },
  };
}
