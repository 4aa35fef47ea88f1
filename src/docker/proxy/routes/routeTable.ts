/**
 * The proxy's route table: its hook-point routes, and a catch-all that sends anything on to the engine. Before the
 * proxy listens, `APIPlugin.updateHandler` may add routes or wrap these (a wrapper calls the handler it replaces;
 * the catch-all's handler forwards any request, for wrapping a route the proxy does not hook). Routes served in this
 * process are matched with or without the `/vX.Y` prefix; everything else, while the catch-all is left as it is,
 * passes to the engine byte for byte (hijacked attach and exec streams included).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { HandlerFunction, HandlerSpec } from "hookplugins";
import { answerWith, clientGone, sendOn } from "../forward.js";
import { sendFailure } from "../httpErrors.js";
import type { ProxyRoute, RouteMatch, RouteMatcher } from "../routeTypes.js";
import { containerCreate } from "./containerCreate.js";
import { containerDelete } from "./containerDelete.js";
import { containerStart } from "./containerStart.js";
import { containerUpdate } from "./containerUpdate.js";
import type { RouteContext } from "./context.js";
import { imageIngest } from "./imageIngest.js";
import type { RuntimeCheck } from "./runtimeCheck.js";
import { volumeCreate } from "./volumeCreate.js";

/** The path of the catch-all route (any method: "*"). */
export const catchAllPath = "/{path*}";

/** A handler whose failure is answered as Docker does (403 for a plugin's refusal, 504 for its time limit, ...). */
function guarded(handler: HandlerFunction): HandlerFunction {
  return async (req, res, params) => {
    try {
      await handler(req, res, params);
    } catch (error) {
      req.resume(); // whatever of the body was not read
      sendFailure(res, error);
    }
  };
}

function hasBody(req: IncomingMessage): boolean {
  return req.headers["content-length"] !== undefined ? req.headers["content-length"] !== "0" : req.headers["transfer-encoding"] !== undefined;
}

/** Sends any request on to the engine and its answer back, streaming both bodies. */
export function forwardToEngine(ctx: RouteContext): HandlerFunction {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const signal = clientGone(res);
    await answerWith(await sendOn(ctx.engine, req, hasBody(req) ? req : Buffer.alloc(0), signal), res);
  };
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

interface Compiled {
  readonly route: ProxyRoute;
  readonly pattern: RegExp;
  readonly names: readonly string[];
}

function compile(route: ProxyRoute): Compiled {
  const names: string[] = [];
  const source = route.path
    .split("/")
    .map((part) => {
      const param = /^\{(\w+)(\*)?\}$/.exec(part);
      if (!param) return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      names.push(param[1]!);
      return param[2] ? "(.+)" : "([^/]+)";
    })
    .join("/");
  return { route, pattern: new RegExp(`^${source}/?$`), names };
}

/**
 * The matcher of the final table. The catch-all with its own handler serves nothing in this process (its requests
 * pass to the engine as bytes); a catch-all a plugin wrapped serves every request not matched before it. Routes of
 * one path and method: the last in the table wins (a plugin that adds one replaces the proxy's).
 */
export function matcherOf(specs: readonly HandlerSpec[], passthrough: HandlerFunction): RouteMatcher {
  const routes: ProxyRoute[] = [];
  let catchAll: ProxyRoute | undefined;
  for (const spec of [...specs].reverse()) {
    const route = { method: spec.method.toUpperCase(), path: spec.path, handler: guarded(spec.handler) };
    if (spec.path === catchAllPath && spec.method === "*") catchAll ??= spec.handler === passthrough ? undefined : route;
    else routes.push(route);
  }
  const compiled = routes.map(compile);
  const catchAllCompiled = catchAll ? compile(catchAll) : undefined;
  return (method, target): RouteMatch | undefined => {
    const pathname = target.split("?")[0] ?? "/";
    const versioned = /^\/(v\d+(?:\.\d+)*)(\/.*)$/.exec(pathname);
    const path = versioned ? versioned[2]! : pathname;
    const version = versioned ? versioned[1] : undefined;
    for (const c of compiled) {
      if (c.route.method !== "*" && c.route.method !== method.toUpperCase()) continue;
      const match = c.pattern.exec(path);
      if (!match) continue;
      const params: Record<string, string> = {};
      c.names.forEach((name, i) => {
        const raw = match[i + 1] ?? "";
        try {
          params[name] = decodeURIComponent(raw);
        } catch {
          params[name] = raw;
        }
      });
      return { route: c.route, params, version };
    }
    return catchAllCompiled ? { route: catchAllCompiled.route, params: { path: path.slice(1) }, version } : undefined;
  };
}
