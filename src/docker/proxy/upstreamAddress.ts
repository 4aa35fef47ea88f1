/**
 * The engine's address as users write it (`unix:///var/run/docker.sock`, `tcp://10.0.0.5:2376`), as the proxy uses it.
 */
import type { UpstreamAddress } from "./routeTypes.js";

/** An engine address that cannot be used. */
export class UpstreamAddressError extends Error {
  override name = "UpstreamAddressError";
}

/** Parses `unix:///path`, a bare absolute socket path, or `tcp://host:port` (TLS options added by the caller). */
export function parseUpstream(text: string): UpstreamAddress {
  if (text.startsWith("/")) return { kind: "unix", path: text };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UpstreamAddressError(`the engine address ${JSON.stringify(text)} is not a URL; give unix:///path/to/docker.sock or tcp://host:port`);
  }
  if (url.protocol === "unix:") {
    const path = decodeURIComponent(url.pathname);
    if (!path.startsWith("/")) throw new UpstreamAddressError(`the engine address ${text} has no absolute socket path; write unix:///path/to/docker.sock`);
    return { kind: "unix", path };
  }
  if (url.protocol === "tcp:" || url.protocol === "http:") {
    const port = Number(url.port || 2375);
    if (!url.hostname || !Number.isInteger(port)) throw new UpstreamAddressError(`the engine address ${text} needs a host and a port: tcp://host:port`);
    return { kind: "tcp", host: url.hostname.replace(/^\[|\]$/g, ""), port };
  }
  throw new UpstreamAddressError(`the engine address ${text} has the scheme ${url.protocol}; use unix:// or tcp://`);
}

/** The address as users write it, for messages: `unix:///var/run/docker.sock`, `tcp://host:port`. */
export function formatUpstream(address: UpstreamAddress): string {
  return address.kind === "unix" ? `unix://${address.path}` : `tcp://${address.host}:${address.port}`;
}
