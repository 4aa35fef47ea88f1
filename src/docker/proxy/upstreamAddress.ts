/** The engine's address: parsing `unix://`, `tcp://` and `https://` URLs, naming it in messages, and dialing it. */
import { connect as netConnect, isIP, type Socket } from "node:net";
import { connect as tlsConnect, type ConnectionOptions } from "node:tls";
import type { UpstreamAddress } from "./routeTypes.js";

/** An address that cannot be parsed. */
export class UpstreamAddressError extends Error {
  override name = "UpstreamAddressError";
}

/** TLS material for a TCP upstream, as PEM text (not file names). */
export type UpstreamTls = NonNullable<Extract<UpstreamAddress, { kind: "tcp" }>["tls"]>;

/**
 * Parses `unix:///var/run/docker.sock`, `tcp://host:2375`, `https://host:2376` (or `tcp://` with `tls`) into an
 * UpstreamAddress. `tls` (PEM text) makes a `tcp://` address use TLS.
 */
export function parseUpstreamAddress(text: string, tls?: UpstreamTls): UpstreamAddress {
  if (text.startsWith("unix://")) {
    const path = text.slice("unix://".length);
    if (!path.startsWith("/")) throw new UpstreamAddressError(`${text}: a unix:// address needs an absolute path (unix:///var/run/docker.sock)`);
    return { kind: "unix", path };
  }
  const m = /^(tcp|http|https):\/\/(\[[0-9A-Fa-f:.]+\]|[^:/[\]]+):(\d{1,5})\/?$/.exec(text);
  if (!m) throw new UpstreamAddressError(`${text}: expected unix:///path, tcp://host:port or https://host:port`);
  const port = Number(m[3]);
  if (port < 1 || port > 65535) throw new UpstreamAddressError(`${text}: port out of range`);
  const host = m[2]!.startsWith("[") ? m[2]!.slice(1, -1) : m[2]!;
  const useTls = m[1] === "https" ? (tls ?? {}) : m[1] === "tcp" ? tls : undefined;
  return useTls ? { kind: "tcp", host, port, tls: useTls } : { kind: "tcp", host, port };
}

/** The address as a URL for messages: `unix:///var/run/docker.sock`, `tcp://10.0.0.1:2376`. */
export function formatUpstreamAddress(address: UpstreamAddress): string {
  if (address.kind === "unix") return `unix://${address.path}`;
  const host = isIP(address.host) === 6 ? `[${address.host}]` : address.host;
  return `tcp://${host}:${address.port}`;
}

/** Opens a half-open-capable connection to the engine (it emits "connect", or "secureConnect" for TLS, then data). */
export function dialUpstream(address: UpstreamAddress): Socket {
  if (address.kind === "unix") return netConnect({ path: address.path, allowHalfOpen: true });
  if (address.tls) {
    const { ca, cert, key } = address.tls;
    // tls.connect passes allowHalfOpen to its TLSSocket; @types/node does not list it
    const options: ConnectionOptions & { allowHalfOpen: boolean } = {
      host: address.host,
      port: address.port,
      allowHalfOpen: true,
      ...(ca !== undefined && { ca }),
      ...(cert !== undefined && { cert }),
      ...(key !== undefined && { key }),
      ...(isIP(address.host) === 0 && { servername: address.host }),
    };
    const secure = tlsConnect(options);
    secure.setNoDelay(true);
    return secure;
  }
  const socket = netConnect({ host: address.host, port: address.port, allowHalfOpen: true });
  socket.setNoDelay(true);
  return socket;
}

/** The event a dialed socket emits once it can carry data ("secureConnect" for TLS). */
export function readyEvent(address: UpstreamAddress): "connect" | "secureConnect" {
  return address.kind === "tcp" && address.tls ? "secureConnect" : "connect";
}
