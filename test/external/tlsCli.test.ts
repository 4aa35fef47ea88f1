/**
 * `hookplugins serve --port --tls-cert --tls-key --tls-ca` (the built CLI): serves one plugin to many hosts over TLS,
 * says so in its ready line, and refuses partial flag sets and unreadable files with errors naming the flag.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { readSpecFile, V1Client } from "hookplugins/external";
import { describeWithTools, toolPath } from "../support/tools.js";
import { builtPackage, cli, containerPlugin, makeProject, removeTemporaryFolders, writePlugin } from "../cli/helpers.js";
import { makePki, type TestPki } from "./tlsCerts.js";
import { killServeProcesses, startServe } from "../cli/serveProcess.js";

describeWithTools(["openssl"], "hookplugins serve over TLS", () => {
  let root: string;
  let pki: TestPki;
  beforeAll(async () => {
    await builtPackage();
    root = await makeProject();
    await writePlugin(root, "plugins/alpha", containerPlugin("alpha", 3));
    pki = await makePki(root, toolPath("openssl"));
  }, 180_000);
  afterAll(async () => {
    killServeProcesses();
    await removeTemporaryFolders();
  });

  const tlsFlags = (): string[] => ["--tls-cert", pki.server.certFile, "--tls-key", pki.server.keyFile];

  it("serves on https:// with client certificates required, and a host with a spec file's TLSConfig calls it", async () => {
    const served = await startServe(root, ["./plugins/alpha", "--port", "0", ...tlsFlags(), "--tls-ca", pki.ca.certFile]);
    expect(served.ready).toMatch(/^Serving plugin "alpha" on https:\/\/127\.0\.0\.1:\d+ over TLS, client certificates required \(stop with SIGTERM or Ctrl-C\)\.$/);
    const addr = /on (https:\/\/\S+) /.exec(served.ready)![1]!;
    const spec = join(root, "alpha.json");
    await writeFile(spec, JSON.stringify({ Name: "alpha", Addr: addr, TLSConfig: { CAFile: pki.ca.certFile, CertFile: pki.client.certFile, KeyFile: pki.client.keyFile } }));
    const client = new V1Client(await readSpecFile(spec, true));
    try {
      expect(await client.call("ContainerPlugin.PreCreate", { Config: { Image: "x" } })).toEqual({ Config: { Image: "x", Env: ["PLUGIN_ALPHA=1"] } });
    } finally {
      client.close();
    }
    served.child.kill("SIGTERM");
    expect(await served.exit).toBe(0);
  });

  it("says when client certificates are not required (--tls-no-client-auth)", async () => {
    const served = await startServe(root, ["./plugins/alpha", "--port", "0", "--host", "127.0.0.1", ...tlsFlags(), "--tls-no-client-auth"]);
    expect(served.ready).toMatch(/ over TLS, client certificates not required \(--tls-no-client-auth\) /);
    served.child.kill("SIGTERM");
    expect(await served.exit).toBe(0);
  });

  it("is a usage error to give --tls-cert without --tls-key", async () => {
    const result = await cli(root, "serve", "./plugins/alpha", "--port", "0", "--tls-cert", pki.server.certFile, "--tls-ca", pki.ca.certFile);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("serving over TLS needs both --tls-cert <file> and --tls-key <file> (the plugin's certificate and its key); --tls-key is missing");
  });

  it("is a usage error to serve TLS without --tls-ca or --tls-no-client-auth", async () => {
    const result = await cli(root, "serve", "./plugins/alpha", "--port", "0", ...tlsFlags());
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("client certificates are required by default: give --tls-ca <file> (the CA that signs the hosts' certificates), or --tls-no-client-auth");
  });

  it("is a usage error to give TLS flags with --socket", async () => {
    const result = await cli(root, "serve", "./plugins/alpha", "--socket", join(root, "a.sock"), ...tlsFlags(), "--tls-ca", pki.ca.certFile);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--tls-cert, --tls-key, --tls-ca: TLS is for --port; a UNIX socket is guarded by its file mode (0600)");
  });

  it("names the flag and the path of a certificate file it cannot read", async () => {
    const missing = join(root, "nope.pem");
    const result = await cli(root, "serve", "./plugins/alpha", "--port", "0", "--tls-cert", missing, "--tls-key", pki.server.keyFile, "--tls-ca", pki.ca.certFile);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`--tls-cert ${missing}: cannot read it (ENOENT)`);
  });

  it("lists the TLS flags in serve --help", async () => {
    const result = await cli(root, "serve", "--help");
    for (const flag of ["--host <addr>", "--tls-cert <file>", "--tls-key <file>", "--tls-ca <file>", "--tls-no-client-auth"]) expect(result.stdout).toContain(flag);
  });
});
