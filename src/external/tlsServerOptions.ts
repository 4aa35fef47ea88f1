/**
 * The TLS settings of a plugin served over TCP to many hosts: checked once, with errors that name the fix, and
 * turned into node:https server options that require and verify client certificates unless told otherwise. A host
 * whose certificate is refused gets a 403 whose Err says why, rather than a bare reset of the connection (Node can
 * only reset it after a TLS 1.3 handshake, without an alert saying why).
 */
import { createSecureContext, type SecureContextOptions, type TLSSocket } from "node:tls";
import type { ServerOptions } from "node:https";

/** TLS for a plugin served over TCP: its certificate and key, and the CA its hosts' client certificates must chain to. */
export interface PluginTlsServerOptions {
  /** The plugin's PEM certificate (chain), naming the address hosts dial in its subjectAltName. */
  readonly cert: string | Buffer;
  /** The PEM private key of `cert` (not encrypted). */
  readonly key: string | Buffer;
  /** PEM CA certificates that sign the hosts' client certificates; required unless requireClientCert is false. */
  readonly ca?: string | Buffer;
  /** Refuse hosts without a client certificate signed by `ca` (default true); false lets any host call. */
  readonly requireClientCert?: boolean;
}

/** TLS options of a plugin server that cannot work, with the fix in the message. */
export class TlsOptionsError extends Error {
  override name = "TlsOptionsError";
}

function isPem(value: unknown): value is string | Buffer {
  return (typeof value === "string" && value.trim() !== "") || (Buffer.isBuffer(value) && value.length > 0);
}

/** Checks `tls` and returns the node:https options that serve it; throws TlsOptionsError naming what to change. */
export function httpsServerOptionsOf(tls: PluginTlsServerOptions): ServerOptions {
  const missing = (["cert", "key"] as const).filter((k) => !isPem(tls[k]));
  if (missing.length > 0) {
    throw new TlsOptionsError(
      `tls needs both "cert" and "key" (PEM text or Buffers), but ${missing.map((k) => `"${k}"`).join(" and ")} ${missing.length > 1 ? "are" : "is"} missing; give the plugin's certificate and its private key (hookplugins serve --tls-cert <file> --tls-key <file>)`,
    );
  }
  const requireClientCert = tls.requireClientCert !== false;
  if (requireClientCert && !isPem(tls.ca)) {
    throw new TlsOptionsError(
      `tls requires client certificates by default, verified against "ca", but no "ca" was given; give the CA that signs the hosts' certificates (--tls-ca <file>), or set requireClientCert: false (--tls-no-client-auth) to let any host that reaches the port call the plugin`,
    );
  }
  const context: SecureContextOptions = { cert: tls.cert, key: tls.key, ...(isPem(tls.ca) && { ca: tls.ca }) };
  try {
    createSecureContext(context);
  } catch (error) {
    throw new TlsOptionsError(`tls "cert", "key" and "ca" must be PEM certificates and a matching unencrypted key: ${(error as Error).message}`, { cause: error });
  }
  // verified here, refused per request by clientCertRefusal
  return { ...context, requestCert: requireClientCert, rejectUnauthorized: false };
}

const clientCertFix = `in its spec file's TLSConfig "CertFile" and "KeyFile"`;

/** Why the host on `socket` may not call a plugin that requires client certificates, with the fix; undefined when it may. */
export function clientCertRefusal(socket: TLSSocket): string | undefined {
  if (socket.authorized) return undefined;
  const code = String(socket.authorizationError ?? "");
  const peer = socket.getPeerCertificate();
  if (peer === null || Object.keys(peer).length === 0) {
    return `this plugin requires a client certificate and the host sent none; give the host a certificate signed by the plugin's CA (its --tls-ca) ${clientCertFix}`;
  }
  if (code === "CERT_HAS_EXPIRED") return `this plugin refused the host's client certificate "${peer.subject?.CN ?? ""}": it expired on ${peer.valid_to} (${code}); renew the certificate ${clientCertFix}`;
  if (code === "CERT_NOT_YET_VALID") return `this plugin refused the host's client certificate "${peer.subject?.CN ?? ""}": it is valid only from ${peer.valid_from} (${code}); check both machines' clocks, or reissue it`;
  return `this plugin refused the host's client certificate "${peer.subject?.CN ?? ""}": no CA it trusts signed it (${code}); give the host a certificate signed by the plugin's CA (its --tls-ca) ${clientCertFix}`;
}
