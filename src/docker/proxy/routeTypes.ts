/**
 * The contract between the Docker API proxy's transport (the relay: HTTP framing, passthrough, hijacks, the
 * upstream client) and its routes (the hook points, APIPlugin routes). A request whose method and path (without
 * the `/vX.Y` prefix) match a route is served in this process by the route's handler, with Node's own
 * IncomingMessage and ServerResponse; every other request passes to the engine byte for byte.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** Serves one request in the proxy's process (the same shape as the library's HandlerFunction). */
export type ProxyHandler = (req: IncomingMessage, res: ServerResponse, params: Record<string, string>) => void | Promise<void>;

/** One route: `path` is a pattern without the API version prefix, `{name}` matches one segment (`{name*}` the rest). */
export interface ProxyRoute {
  /** HTTP method, upper case. */
  readonly method: string;
  /** e.g. "/containers/{id}/start", "/images/{name*}/json". */
  readonly path: string;
  /** The handler. */
  readonly handler: ProxyHandler;
}

/** A route that matched a request. */
export interface RouteMatch {
  /** The route. */
  readonly route: ProxyRoute;
  /** Its path parameters, decoded. */
  readonly params: Record<string, string>;
  /** The API version prefix of the request ("v1.41"), or undefined when it had none. */
  readonly version: string | undefined;
}

/** Finds the route of a request: `target` is the request target as sent (path and query, with any version prefix). */
export type RouteMatcher = (method: string, target: string) => RouteMatch | undefined;

/** Where the engine listens: a UNIX socket, or TCP (with TLS options for `https`). */
export type UpstreamAddress =
  | { readonly kind: "unix"; readonly path: string }
  | { readonly kind: "tcp"; readonly host: string; readonly port: number; readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string } };
