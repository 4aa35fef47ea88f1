/**
 * The internal http.Server (it never listens) that serves matched routes in the proxy's process: each request arrives
 * on its own InjectedSocket, and the route's handler gets Node's own IncomingMessage, ServerResponse and the route's
 * params. A handler that throws or rejects gets a Docker-style JSON error (500, or the error's status/statusCode).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { errorMessage, errorResponseBytes, sendErrorResponse } from "./errorResponse.js";
import type { InjectedSocket } from "./injectedSocket.js";
import type { RouteMatch } from "./routeTypes.js";

/** A route handler failed; given to the `onHandlerError` option. */
export class RouteHandlerError extends Error {
  override name = "RouteHandlerError";
  /** The route's method and path pattern. */
  readonly route: string;

  /** Wraps `cause`, thrown by the handler of `route`. */
  constructor(route: string, cause: unknown) {
    super(`the handler of ${route} failed: ${errorMessage(cause)}`, { cause });
    this.route = route;
  }
}

/** Options of an InProcessServer. */
export interface InProcessServerOptions {
  /** Largest request head, in bytes (node:http's own limit is raised to it). */
  readonly maxHeadBytes: number;
  /** Told about every handler failure (the client gets its JSON error either way). */
  readonly onHandlerError?: (error: RouteHandlerError) => void;
}

/** Serves matched routes with node:http on injected sockets. */
export class InProcessServer {
  private readonly server: Server;
  private readonly matches = new WeakMap<Duplex, RouteMatch>();
  private readonly onHandlerError: ((error: RouteHandlerError) => void) | undefined;

  /** An internal server; nothing listens. */
  constructor(options: InProcessServerOptions) {
    this.onHandlerError = options.onHandlerError;
    this.server = createServer({
      requireHostHeader: false,
      maxHeaderSize: options.maxHeadBytes + 1024,
      insecureHTTPParser: false,
    });
    this.server.keepAliveTimeout = 0;
    this.server.requestTimeout = 0;
    this.server.on("request", (req: IncomingMessage, res: ServerResponse) => this.dispatch(req, res));
    this.server.on("clientError", (error: Error, socket: Duplex) => {
      if (socket.writable) socket.end(errorResponseBytes(400, `bad request: ${error.message}`, { close: true }));
      else socket.destroy();
    });
  }

  /** Serves the one request that `socket` will carry with `match`'s handler. */
  serve(match: RouteMatch, socket: InjectedSocket): void {
    this.matches.set(socket, match);
    this.server.emit("connection", socket);
  }

  private dispatch(req: IncomingMessage, res: ServerResponse): void {
    const match = this.matches.get(req.socket);
    if (!match) {
      sendErrorResponse(res, new Error("no route for this request"));
      return;
    }
    const fail = (cause: unknown): void => {
      try {
        this.onHandlerError?.(new RouteHandlerError(`${match.route.method} ${match.route.path}`, cause));
      } finally {
        sendErrorResponse(res, cause);
      }
    };
    try {
      const result = match.route.handler(req, res, { ...match.params });
      if (result && typeof result.then === "function") result.then(undefined, fail);
    } catch (error) {
      fail(error);
    }
  }
}
