/**
 * Compiles ProxyRoute patterns into a RouteMatcher that reads request targets the way dockerd does: the path is
 * percent-decoded before matching (dockerd's router matches the decoded path, so `/containers/cr%65ate` is a create
 * and must not slip past a hook), absolute-form targets (`http://x/containers/create`) count by their path, and an
 * optional `/v{version}` prefix (digits and dots, as in dockerd's router) is accepted on every route.
 */
import { isToken } from "./http1Head.js";
import type { ProxyRoute, RouteMatch, RouteMatcher } from "./routeTypes.js";

/** A route pattern that cannot be compiled. */
export class RoutePatternError extends Error {
  override name = "RoutePatternError";
}

interface CompiledRoute {
  readonly route: ProxyRoute;
  readonly method: string;
  readonly regex: RegExp;
  readonly names: readonly string[];
}

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const VERSION_PREFIX = /^\/v([0-9.]+)(\/.*)$/s;

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function compile(route: ProxyRoute): CompiledRoute {
  const { path } = route;
  if (typeof path !== "string" || !path.startsWith("/")) throw new RoutePatternError(`route path ${JSON.stringify(path)} must start with "/"`);
  if (typeof route.method !== "string" || !isToken(route.method)) {
    throw new RoutePatternError(`route ${path}: invalid method ${JSON.stringify(route.method)}`);
  }
  if (typeof route.handler !== "function") throw new RoutePatternError(`route ${route.method} ${path}: the handler is not a function`);
  const names: string[] = [];
  let source = "";
  const segments = path.slice(1).split("/");
  segments.forEach((segment, index) => {
    source += "/";
    const param = /^\{([^{}]*)\}$/.exec(segment);
    if (!param) {
      if (/[{}]/.test(segment)) throw new RoutePatternError(`route ${path}: a parameter must be a whole segment ("${segment}")`);
      source += escapeRegex(segment);
      return;
    }
    const rest = param[1]!.endsWith("*");
    const name = rest ? param[1]!.slice(0, -1) : param[1]!;
    if (!PARAM_NAME.test(name)) throw new RoutePatternError(`route ${path}: invalid parameter name "${name}"`);
    if (names.includes(name)) throw new RoutePatternError(`route ${path}: parameter "${name}" appears twice`);
    if (rest && segments.slice(index + 1).some((s) => s.endsWith("*}"))) throw new RoutePatternError(`route ${path}: only one {name*} parameter per route`);
    names.push(name);
    source += rest ? "(.+)" : "([^/]+)";
  });
  return { route, method: route.method.toUpperCase(), regex: new RegExp(`^${source}$`, "s"), names };
}

/** Percent-decodes a path as Go's url.PathUnescape does (bytes, then UTF-8); undefined for a malformed escape. */
export function percentDecode(text: string): string | undefined {
  if (!text.includes("%")) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x25) {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (c < 0x80) bytes.push(c);
    else bytes.push(...Buffer.from(text[i]!, "utf8"));
  }
  return Buffer.from(bytes).toString("utf8");
}

/**
 * The decoded path of a request target as an HTTP server reads it: origin-form (`/a?b`) or absolute-form
 * (`scheme://authority/a?b`, also `scheme:/a`); undefined for other forms or a malformed escape.
 */
export function requestPath(target: string): string | undefined {
  let rest = target;
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:/.exec(rest);
  if (scheme && !rest.startsWith("/")) {
    rest = rest.slice(scheme[0].length);
    if (rest.startsWith("//") && !rest.startsWith("///")) {
      const slash = rest.indexOf("/", 2);
      const query = rest.indexOf("?", 2);
      const cut = slash < 0 ? (query < 0 ? rest.length : query) : query >= 0 && query < slash ? query : slash;
      rest = rest.slice(cut);
      if (rest === "" || rest.startsWith("?")) rest = `/${rest}`;
    }
  }
  if (!rest.startsWith("/")) return undefined;
  const query = rest.indexOf("?");
  return percentDecode(query < 0 ? rest : rest.slice(0, query));
}

/** Splits an API version prefix off a decoded path: `/v1.41/info` gives `{ version: "v1.41", path: "/info" }`. */
export function splitApiVersion(path: string): { version: string | undefined; path: string } {
  const m = VERSION_PREFIX.exec(path);
  return m ? { version: `v${m[1]!}`, path: m[2]! } : { version: undefined, path };
}

/**
 * Compiles `routes` into a RouteMatcher. The first route (in the given order) whose method equals the request's ("*": any)
 * (case-sensitive, as dockerd's router) and whose pattern matches the decoded path, with or without `/vX.Y`, wins.
 * `{name}` matches one segment, `{name*}` one or more (image names hold slashes); parameters come decoded.
 */
export function compileRoutes(routes: readonly ProxyRoute[]): RouteMatcher {
  const compiled = routes.map(compile);
  if (compiled.length === 0) return () => undefined;
  return (method, target) => {
    const decoded = requestPath(target);
    if (decoded === undefined) return undefined;
    const { version, path } = splitApiVersion(decoded);
    for (const c of compiled) {
      if (c.method !== "*" && c.method !== method) continue;
      const m = c.regex.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      c.names.forEach((name, i) => {
        params[name] = m[i + 1]!;
      });
      const match: RouteMatch = { route: c.route, params, version };
      return match;
    }
    return undefined;
  };
}

/** A matcher that matches nothing: every request passes to the engine. */
export const noRoutes: RouteMatcher = () => undefined;
