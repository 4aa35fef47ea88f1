/** The route matcher: patterns, version prefixes, decoding, and the request targets dockerd would read as a route. */
import { describe, expect, it } from "vitest";
import { compileRoutes, percentDecode, requestPath, RoutePatternError, splitApiVersion } from "../../../src/docker/proxy/routeMatcher.js";
import type { ProxyRoute } from "../../../src/docker/proxy/routeTypes.js";

const handler = (): void => undefined;
const route = (method: string, path: string): ProxyRoute => ({ method, path, handler });

const routes = [
  route("POST", "/containers/create"),
  route("POST", "/containers/{id}/start"),
  route("POST", "/containers/{id}/update"),
  route("GET", "/images/{name*}/json"),
  route("POST", "/images/{name*}/tag"),
  route("GET", "/distribution/{name*}"),
];
const match = compileRoutes(routes);
const which = (method: string, target: string): string | undefined => {
  const m = match(method, target);
  return m && `${m.route.method} ${m.route.path} ${JSON.stringify(m.params)} ${m.version ?? "-"}`;
};

describe("compileRoutes", () => {
  it("matches a path with and without the /vX.Y prefix and reports the version", () => {
    expect(which("POST", "/v1.41/containers/create?name=x")).toBe("POST /containers/create {} v1.41");
    expect(which("POST", "/containers/create")).toBe("POST /containers/create {} -");
    expect(which("POST", "/v1/containers/create")).toBe("POST /containers/create {} v1");
  });

  it("gives {param} one segment", () => {
    expect(which("POST", "/v1.41/containers/abc123/start")).toBe('POST /containers/{id}/start {"id":"abc123"} v1.41');
    expect(which("POST", "/v1.41/containers/a/b/start")).toBeUndefined();
  });

  it("gives {param*} the rest, slashes included, also before a literal suffix", () => {
    expect(which("GET", "/v1.41/images/docker.io/library/busybox:latest/json")).toBe('GET /images/{name*}/json {"name":"docker.io/library/busybox:latest"} v1.41');
    expect(which("GET", "/distribution/127.0.0.1:5055/bb:1")).toBe('GET /distribution/{name*} {"name":"127.0.0.1:5055/bb:1"} -');
  });

  it("decodes parameters, %2F included", () => {
    expect(which("GET", "/images/docker.io%2Flibrary%2Fbb%40sha256%3Aab/json")).toBe('GET /images/{name*}/json {"name":"docker.io/library/bb@sha256:ab"} -');
    expect(which("POST", "/containers/caf%C3%A9/start")).toBe('POST /containers/{id}/start {"id":"café"} -');
  });

  it("matches a percent-encoded literal, as dockerd decodes the path before routing (no hook bypass)", () => {
    expect(which("POST", "/v1.41/containers/cr%65ate")).toBe("POST /containers/create {} v1.41");
    expect(which("POST", "/v1.41/containers%2Fcreate")).toBe("POST /containers/create {} v1.41");
  });

  it("matches an absolute-form target by its path, as dockerd does (no hook bypass)", () => {
    expect(which("POST", "http://docker/v1.41/containers/create?name=x")).toBe("POST /containers/create {} v1.41");
    expect(which("POST", "x:/containers/create")).toBe("POST /containers/create {} -");
  });

  it("compares the method exactly, as dockerd's router does", () => {
    expect(which("GET", "/containers/create")).toBeUndefined();
    expect(which("post", "/containers/create")).toBeUndefined();
  });

  it("does not match extra or missing segments, a trailing slash, or a query-only difference in the path", () => {
    expect(which("POST", "/containers/create/")).toBeUndefined();
    expect(which("POST", "/containers/x/start/now")).toBeUndefined();
    expect(which("POST", "/containers/createx")).toBeUndefined();
    expect(which("POST", "/containers?x=/create")).toBeUndefined();
  });

  it("leaves a malformed escape, an authority-form and an asterisk-form target to the engine", () => {
    expect(which("POST", "/containers/%zz/start")).toBeUndefined();
    expect(which("CONNECT", "docker:2375")).toBeUndefined();
    expect(which("OPTIONS", "*")).toBeUndefined();
  });

  it("takes the first matching route in the given order", () => {
    const first = route("POST", "/containers/{id}/start");
    const m = compileRoutes([first, route("POST", "/containers/special/start")])("POST", "/containers/special/start");
    expect(m?.route).toBe(first);
  });

  it("gives each match its own params object", () => {
    const a = match("POST", "/containers/a/start");
    const b = match("POST", "/containers/b/start");
    expect(a?.params).toEqual({ id: "a" });
    expect(b?.params).toEqual({ id: "b" });
  });

  it("refuses malformed patterns", () => {
    expect(() => compileRoutes([route("POST", "containers/create")])).toThrow(RoutePatternError);
    expect(() => compileRoutes([route("POST", "/containers/x{id}")])).toThrow(/whole segment/);
    expect(() => compileRoutes([route("POST", "/containers/{1d}")])).toThrow(/invalid parameter name/);
    expect(() => compileRoutes([route("POST", "/a/{id}/{id}")])).toThrow(/appears twice/);
    expect(() => compileRoutes([route("POST", "/a/{x*}/{y*}")])).toThrow(/only one/);
    expect(() => compileRoutes([route("PO ST", "/a")])).toThrow(/invalid method/);
  });

  it("matches nothing with no routes", () => {
    expect(compileRoutes([])("POST", "/containers/create")).toBeUndefined();
  });
});

describe("target helpers", () => {
  it("percent-decodes bytes as UTF-8 and refuses a malformed escape", () => {
    expect(percentDecode("/a%20b%2F%c3%a9")).toBe("/a b/é");
    expect(percentDecode("/a%2")).toBeUndefined();
    expect(percentDecode("/a+b")).toBe("/a+b");
  });

  it("reads the path of origin-form and absolute-form targets", () => {
    expect(requestPath("/v1.41/info?x=%2F")).toBe("/v1.41/info");
    expect(requestPath("http://api.moby.localhost/v1.41/info?x=1")).toBe("/v1.41/info");
    expect(requestPath("http://api.moby.localhost")).toBe("/");
    expect(requestPath("http://h?x")).toBe("/");
    expect(requestPath("*")).toBeUndefined();
  });

  it("splits the version prefix the way dockerd's router reads it (digits and dots)", () => {
    expect(splitApiVersion("/v1.41/info")).toEqual({ version: "v1.41", path: "/info" });
    expect(splitApiVersion("/volumes/create")).toEqual({ version: undefined, path: "/volumes/create" });
    expect(splitApiVersion("/v1.41")).toEqual({ version: undefined, path: "/v1.41" });
  });
});
