/**
 * The route table: HandlerSpec entries ("/containers/{id}/start") matched against request paths.
 * Unknown paths get 404, known paths with another method 405, both as Docker-style JSON errors.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { HandlerSpec } from "hookplugins";
import { HttpError } from "./httpErrors.js";
import { requestUrl, sendError } from "./http.js";
import { stripVersion } from "./apiVersion.js";

interface CompiledRoute {
  spec: HandlerSpec;
  pattern: RegExp;
  names: string[];
}

function compile(spec: HandlerSpec): CompiledRoute {
  const names: string[] = [];
  const source = spec.path
    .split("/")
    .map((part) => {
      const param = /^\{(\w+)\}$/.exec(part);
      if (!param) return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      names.push(param[1] ?? "");
      // Image names contain slashes; other parameters are one path segment.
      return param[1] === "name" ? "(.+)" : "([^/]+)";
    })
    .join("/");
  return { spec, pattern: new RegExp(`^${source}$`), names };
}

/** A request listener serving `handlers`; errors thrown by a handler become Docker-style JSON errors. */
export function createRouter(handlers: readonly HandlerSpec[]): (req: IncomingMessage, res: ServerResponse) => void {
  const routes = handlers.map(compile);
  return (req, res) => {
    const serve = async (): Promise<void> => {
      const { path } = stripVersion(requestUrl(req).pathname);
      const method = (req.method ?? "GET").toUpperCase();
      let pathMatched = false;
      for (const route of routes) {
        const match = route.pattern.exec(path);
        if (!match) continue;
        pathMatched = true;
        if (route.spec.method.toUpperCase() !== method) continue;
        const params: Record<string, string> = {};
        route.names.forEach((name, i) => (params[name] = decodeURIComponent(match[i + 1] ?? "")));
        await route.spec.handler(req, res, params);
        return;
      }
      if (pathMatched) throw new HttpError(405, `method ${method} is not allowed for ${path}`);
      throw new HttpError(404, "page not found");
    };
    serve().catch((err: unknown) => {
      req.resume(); // drain an unread body so the connection can be reused
      sendError(res, err);
    });
  };
}
