/**
 * One plugin serving many hosts over TLS: serve({ tls }) requires client certificates by default, a host reaches it
 * through a `.json` spec file's TLSConfig as Docker's client does, and each broken certificate (wrong CA, none sent,
 * expired, wrong name) is refused with a message naming the plugin's address, what was wrong and the fix.
 * Certificates are made at test time by the real openssl.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createRegistry } from "hookplugins";
import { discoverPlugins, loadExternalPlugins, readSpecFile, serve, TlsOptionsError, V1CallError, V1Client, type HookPluginServer, type PluginTlsServerOptions } from "hookplugins/external";
import { describeWithTools, toolPath } from "../support/tools.js";
import { tempDir } from "./helpers.js";
import { makePki, type CertFiles, type TestPki } from "./tlsCerts.js";

const plugin = { name: "fleetpolicy", preCreate: (_ctx: unknown, config: { Env?: string[] }) => ({ ...config, Env: [...(config.Env ?? []), "CHECKED=1"] }) };

describeWithTools(["openssl"], "TLS", () => {
  let tmp: { dir: string; cleanup(): Promise<void> };
  let pki: TestPki;
  const closers: Array<() => Promise<unknown> | void> = [];

  beforeAll(async () => {
    tmp = await tempDir("hookplugins-tls-");
    pki = await makePki(tmp.dir, toolPath("openssl"));
  }, 30_000);
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });
  afterAll(async () => {
    await tmp?.cleanup();
  });

  describe("plugins over TLS", () => {

    async function serveTls(tls: Partial<PluginTlsServerOptions> = {}): Promise<HookPluginServer> {
      const server = await serve(plugin, { port: 0, handleSignals: false, tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert, ...tls } });
      closers.push(() => server.close());
      return server;
    }

    /** Writes `<name>/<name>.json` with Addr and TLSConfig, as a host's spec folder (one per test) holds it. */
    async function spec(name: string, addr: string, tlsConfig: Record<string, unknown> | null): Promise<string> {
      await mkdir(join(tmp.dir, name));
      const path = join(tmp.dir, name, `${name}.json`);
      await writeFile(path, JSON.stringify({ Name: name, Addr: addr, TLSConfig: tlsConfig }));
      return path;
    }

    const hostTls = (client: CertFiles | null = pki.client, caFile = pki.ca.certFile): Record<string, unknown> => ({
      CAFile: caFile,
      ...(client && { CertFile: client.certFile, KeyFile: client.keyFile }),
    });

    /** The error of one Activate call through the spec file at `path`. */
    async function failure(path: string): Promise<V1CallError> {
      const client = new V1Client(await readSpecFile(path, true));
      closers.push(() => client.close());
      const error = await client.call("Plugin.Activate", undefined).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(V1CallError);
      return error as V1CallError;
    }

    it("serves on an https:// address and says that client certificates are required", async () => {
      const server = await serveTls();
      expect(server.address).toBe(`https://127.0.0.1:${server.port}`);
      expect(server.tls).toEqual({ clientCertRequired: true });
    });

    it("answers a host whose spec file's TLSConfig holds the CA and its client certificate", async () => {
      const server = await serveTls();
      const specs = dirname(await spec("fleetpolicy", server.address, hostTls()));
      const set = await loadExternalPlugins(createRegistry(), { specDirs: [specs], allowTcp: true }, { retryTotalMs: 300 });
      closers.push(() => set.close());
      expect(set.list().map((p) => p.name)).toEqual(["fleetpolicy"]);
      const client = new V1Client((await discoverPlugins({ specDirs: [specs], allowTcp: true })).plugins[0]!.address!);
      closers.push(() => client.close());
      expect(await client.call("ContainerPlugin.PreCreate", { Config: { Image: "busybox", Env: ["A=1"] } })).toEqual({ Config: { Image: "busybox", Env: ["A=1", "CHECKED=1"] } });
    });

    it("refuses a plugin certificate signed by a CA the host does not trust, naming CAFile", async () => {
      const server = await serveTls();
      const error = await failure(await spec("wrongca", server.address, hostTls(pki.client, pki.otherCa.certFile)));
      expect(error.kind).toBe("tls");
      expect(error.message).toContain(`TLS with the plugin at ${server.address} failed`);
      expect(error.message).toMatch(/the plugin's certificate is not signed by a CA this host trusts \((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE): .*set "CAFile" in the spec file's TLSConfig/);
    });

    it("is refused by the plugin with a 403 naming CertFile and KeyFile when the host sends no client certificate", async () => {
      const server = await serveTls();
      const error = await failure(await spec("nocert", server.address, hostTls(null)));
      expect([error.kind, error.status]).toEqual(["status", 403]);
      expect(error.message).toBe(
        `this plugin requires a client certificate and the host sent none; give the host a certificate signed by the plugin's CA (its --tls-ca) in its spec file's TLSConfig "CertFile" and "KeyFile"`,
      );
    });

    it("is refused by the plugin with a 403 when the host's client certificate comes from another CA", async () => {
      const server = await serveTls();
      const stranger = await pki.otherCa.issue("stranger", { cn: "host-2" });
      const error = await failure(await spec("stranger", server.address, hostTls(stranger)));
      expect([error.kind, error.status]).toEqual(["status", 403]);
      expect(error.message).toMatch(/^this plugin refused the host's client certificate "host-2": no CA it trusts signed it \([A-Z_]+\); give the host a certificate signed by the plugin's CA \(its --tls-ca\)/);
    });

    it("names CertFile and KeyFile when a plugin refuses a host without a certificate at the handshake, as a Go plugin does", async () => {
      const server = createHttpsServer({ cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert, requestCert: true, rejectUnauthorized: true }, (_req, res) => res.end("{}"));
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      closers.push(() => new Promise((resolve) => server.close(resolve)));
      const address = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const error = await failure(await spec("handshake", address, hostTls(null)));
      expect(error.kind).toBe("tls");
      expect(error.message).toMatch(/^TLS with the plugin at https:\/\/127\.0\.0\.1:\d+ failed during Plugin\.Activate: the plugin requires a client certificate and this host sent none \(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: tlsv13 alert certificate required\); set "CertFile" and "KeyFile"/);
    });

    it("refuses an expired plugin certificate, saying to renew it", async () => {
      const expired = await pki.ca.issue("expired-server", { cn: "plugin", san: ["IP:127.0.0.1"], start: "20200101000000Z", end: "20200102000000Z" });
      const server = await serveTls({ cert: expired.cert, key: expired.key });
      const error = await failure(await spec("expired", server.address, hostTls()));
      expect(error.kind).toBe("tls");
      expect(error.message).toMatch(/the plugin's certificate has expired \(CERT_HAS_EXPIRED.*renew the certificate the plugin serves \(--tls-cert/);
    });

    it("is refused by the plugin with a 403 when the host's client certificate has expired", async () => {
      const server = await serveTls();
      const expired = await pki.ca.issue("expired-client", { cn: "host-3", start: "20200101000000Z", end: "20200102000000Z" });
      const error = await failure(await spec("expiredclient", server.address, hostTls(expired)));
      expect([error.kind, error.status]).toEqual(["status", 403]);
      expect(error.message).toBe(
        `this plugin refused the host's client certificate "host-3": it expired on Jan  2 00:00:00 2020 GMT (CERT_HAS_EXPIRED); renew the certificate in its spec file's TLSConfig "CertFile" and "KeyFile"`,
      );
    });

    it("refuses a plugin certificate that does not name the address dialled", async () => {
      const elsewhere = await pki.ca.issue("elsewhere", { cn: "plugin", san: ["DNS:plugin.example"] });
      const server = await serveTls({ cert: elsewhere.cert, key: elsewhere.key });
      const error = await failure(await spec("mismatch", server.address, hostTls()));
      expect(error.kind).toBe("tls");
      expect(error.message).toMatch(/the plugin's certificate does not name "127\.0\.0\.1" \(ERR_TLS_CERT_ALTNAME_INVALID.*in its subjectAltName/);
    });

    it("says a plugin does not answer TLS when the spec asks for TLS and it serves plain HTTP", async () => {
      const server = await serve(plugin, { port: 0, handleSignals: false });
      closers.push(() => server.close());
      const error = await failure(await spec("plain", `https://127.0.0.1:${server.port}`, hostTls()));
      expect(error.kind).toBe("tls");
      expect(error.message).toMatch(/the plugin does not answer TLS there .*write tcp:\/\/ without TLSConfig/);
    });

    it("names the plugin and its spec file when loading fails on a certificate", async () => {
      const server = await serveTls();
      const specs = dirname(await spec("refused", server.address, hostTls(null)));
      const loading = loadExternalPlugins(createRegistry(), { specDirs: [specs], allowTcp: true }, { retryTotalMs: 300 });
      await expect(loading).rejects.toThrow(/cannot load external plugin "refused" from .*refused\.json \(https:\/\/127\.0\.0\.1:\d+\): this plugin requires a client certificate and the host sent none/);
    });

    it("lets any host call when the plugin opts out of client certificates", async () => {
      const server = await serveTls({ requireClientCert: false, ca: undefined });
      expect(server.tls).toEqual({ clientCertRequired: false });
      const client = new V1Client(await readSpecFile(await spec("open", server.address, hostTls(null)), true));
      closers.push(() => client.close());
      expect(await client.call("Plugin.Activate", undefined)).toEqual({ Implements: ["ContainerPlugin"] });
    });
  });

  describe("TLS options of serve()", () => {

    it("refuses a certificate without its key, naming --tls-key", async () => {
      const serving = serve(plugin, { port: 0, handleSignals: false, tls: { cert: pki.server.cert, ca: pki.ca.cert } as PluginTlsServerOptions });
      await expect(serving).rejects.toThrow(TlsOptionsError);
      await expect(serving).rejects.toThrow(/tls needs both "cert" and "key".*"key" is missing.*--tls-key/);
    });

    it("refuses to require client certificates without a CA to check them, naming both fixes", async () => {
      const serving = serve(plugin, { port: 0, handleSignals: false, tls: { cert: pki.server.cert, key: pki.server.key } });
      await expect(serving).rejects.toThrow(/no "ca" was given.*--tls-ca <file>.*requireClientCert: false \(--tls-no-client-auth\)/);
    });

    it("refuses a key that does not match the certificate", async () => {
      const serving = serve(plugin, { port: 0, handleSignals: false, tls: { cert: pki.server.cert, key: pki.client.key, ca: pki.ca.cert } });
      await expect(serving).rejects.toThrow(/must be PEM certificates and a matching unencrypted key: .*key values mismatch/);
    });

    it("refuses TLS on a UNIX socket, pointing at a TCP port", async () => {
      const tls = { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert };
      const serving = serve(plugin, { socket: join(tmp.dir, "p.sock"), tls, handleSignals: false } as Parameters<typeof serve>[1]);
      await expect(serving).rejects.toThrow(/tls is for TCP ports; the UNIX socket .*p\.sock is guarded by its file mode/);
    });
  });

  describe("spec files' TLSConfig, as Docker's client reads it", () => {

    async function problemOf(json: object): Promise<string> {
      const dir = await tempDir("hookplugins-tlsspec-dir-");
      closers.push(() => dir.cleanup());
      await writeFile(join(dir.dir, "p.json"), JSON.stringify(json));
      const found = await discoverPlugins({ specDirs: [dir.dir], allowTcp: true });
      expect(found.plugins).toEqual([]);
      return found.problems[0]!.problem;
    }

    it("refuses a TLSConfig beside a tcp:// Addr, which Docker dials without TLS, naming https://", async () => {
      expect(await problemOf({ Addr: "tcp://127.0.0.1:9000", TLSConfig: { CAFile: pki.ca.certFile } })).toBe(
        `has a "TLSConfig", but "Addr" is tcp://127.0.0.1:9000, which Docker's client dials without TLS; write "Addr": "https://127.0.0.1:9000" to use TLS`,
      );
    });

    it("refuses a CertFile without a KeyFile", async () => {
      expect(await problemOf({ Addr: "https://127.0.0.1:9000", TLSConfig: { CertFile: pki.client.certFile } })).toMatch(/TLSConfig has "CertFile" but no "KeyFile"; give both/);
    });

    it("names the TLSConfig field whose file cannot be read", async () => {
      expect(await problemOf({ Addr: "https://127.0.0.1:9000", TLSConfig: { CAFile: join(tmp.dir, "nope.pem") } })).toMatch(/cannot read TLSConfig "CAFile" .*nope\.pem \(ENOENT\)/);
    });

    it("names the spec's TLSConfig files when the host's certificate and key do not match", async () => {
      const path = join(tmp.dir, "mismatched.json");
      await writeFile(path, JSON.stringify({ Addr: "https://127.0.0.1:9000", TLSConfig: { CAFile: pki.ca.certFile, CertFile: pki.client.certFile, KeyFile: pki.server.keyFile } }));
      const address = await readSpecFile(path, true);
      expect(() => new V1Client(address)).toThrow(/^the TLS settings for the plugin at https:\/\/127\.0\.0\.1:9000 are unusable \(key values mismatch\): "CertFile" and "KeyFile"/);
    });

    it("does not check the plugin's certificate when TLSConfig has no CAFile, as Docker does", async () => {
      const stranger = await pki.otherCa.issue("unchecked", { cn: "plugin", san: ["DNS:plugin.example"] });
      const server = await serve(plugin, { port: 0, handleSignals: false, tls: { cert: stranger.cert, key: stranger.key, ca: pki.ca.cert } });
      closers.push(() => server.close());
      const path = join(tmp.dir, "nocafile.json");
      await writeFile(path, JSON.stringify({ Addr: server.address, TLSConfig: { CertFile: pki.client.certFile, KeyFile: pki.client.keyFile } }));
      const address = await readSpecFile(path, true);
      expect(address).toMatchObject({ kind: "tcp", tls: { insecureSkipVerify: true } });
      const client = new V1Client(address);
      closers.push(() => client.close());
      expect(await client.call("Plugin.Activate", undefined)).toEqual({ Implements: ["ContainerPlugin"] });
    });

    it("dials an https:// URL of a .spec file over TLS without checking the certificate, as Docker does", async () => {
      const path = join(tmp.dir, "plain.spec");
      await writeFile(path, "https://127.0.0.1:9000\n");
      expect(await readSpecFile(path, true)).toEqual({ kind: "tcp", host: "127.0.0.1", port: 9000, tls: { insecureSkipVerify: true } });
    });
  });
});
