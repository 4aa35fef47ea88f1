/**
 * The proxy's route table: its hook-point routes, and a catch-all that sends anything on to the engine. Before the
 * proxy listens, `APIPlugin.updateHandler` may add routes or wrap these (a wrapper calls the handler it replaces;
 * the catch-all's handler forwards any request, for wrapping a route the proxy does not hook). Routes are matched
 * with or without the `/vX.Y` prefix on the decoded path. Every request no route serves, while the catch-all is left
 * as it is, passes to the engine byte for byte (hijacked attach and exec streams included).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { HandlerFunction, HandlerSpec } from "hookplugins";
import { compileRoutes } from "../routeMatcher.js";
import type { ProxyRoute, RouteMatcher } from "../routeTypes.js";
import { containerCreate, volumeCreate } from "./createHooks.js";
import { containerDelete } from "./containerDelete.js";
import { containerStart } from "./containerStart.js";
import { containerUpdate } from "./containerUpdate.js";
import type { RouteContext } from "./context.js";
import { imageIngest } from "./imageIngest.js";
import type { RuntimeCheck } from "./runtimeCheck.js";

/** The path of the catch-all route (method "*": any). */
export const catchAllPath = "/{path*}";

/** Sends any request on to the engine and its answer back, streaming both bodies. */
export function forwardToEngine(ctx: RouteContext): HandlerFunction {
  return (req: IncomingMessage, res: ServerResponse) => ctx.engine.forward(req, res);
}

/** The table before the plugins see it: the hook-point routes, then the catch-all. */
export function builtinRoutes(ctx: RouteContext, runtimes: RuntimeCheck): { specs: HandlerSpec[]; passthrough: HandlerFunction } {
  const passthrough = forwardToEngine(ctx);
  const specs: HandlerSpec[] = [
    { method: "POST", path: "/containers/create", handler: containerCreate(ctx) },
    { method: "POST", path: "/containers/{id}/start", handler: containerStart(ctx, runtimes) },
    { method: "POST", path: "/containers/{id}/update", handler: containerUpdate(ctx) },
    { method: "DELETE", path: "/containers/{id}", handler: containerDelete(ctx) },
    { method: "POST", path: "/volumes/create", handler: volumeCreate(ctx) },
    { method: "POST", path: "/images/create", handler: imageIngest(ctx, "create") },
    { method: "POST", path: "/images/load", handler: imageIngest(ctx, "load") },
    { method: "*", path: catchAllPath, handler: passthrough },
  ];
  return { specs, passthrough };
}

/**
 * The matcher of the final table. Of routes with the same method and path, the last in the table wins (a plugin
 * that adds one replaces the proxy's); the catch-all is tried last, and only when a plugin wrapped it (then it
 * serves every other request in this process: hijacked streams no longer pass through).
 */
export function matcherOf(specs: readonly HandlerSpec[], passthrough: HandlerFunction): RouteMatcher {
  const routes: ProxyRoute[] = [];
  let catchAll: ProxyRoute | undefined;
  const seen = new Set<string>();
  for (const spec of [...specs].reverse()) {
    const route: ProxyRoute = { method: spec.method.toUpperCase(), path: spec.path, handler: spec.handler };
    const key = `${route.method} ${route.path}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (spec.path === catchAllPath && spec.method === "*") catchAll = spec.handler === passthrough ? undefined : route;
    else routes.push(route);
  }
  return compileRoutes(catchAll ? [...routes, catchAll] : routes);
}
