/**
 * Proof against the real peer: moby's own Go plugin client (github.com/docker/docker/pkg/plugins, as dockerd uses it)
 * activates a plugin served by serve() and gets the changed config back from ContainerPlugin.PreCreate, over a UNIX
 * socket and over TLS through a `.json` spec file's TLSConfig (certificates made by openssl at test time).
 * Built offline in GOPATH mode from Debian's golang-github-docker-docker-dev.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { envLimitsPlugin } from "../../hookplugins/envlimits/index.js";
import { serve, type HookPluginServer } from "hookplugins/external";
import { findTool, itWithTools, toolPath } from "../support/tools.js";
import { makePki, type TestPki } from "./tlsCerts.js";

const goSource = "/usr/share/gocode/src/github.com/docker/docker/pkg/plugins";
const go = findTool("go");
const skipReason = !go
  ? "the `go` tool is not on PATH (apt-get install golang-go)"
  : !existsSync(goSource)
    ? `moby's plugin client source is missing at ${goSource} (apt-get install golang-github-docker-docker-dev)`
    : undefined;
if (skipReason) console.warn(`skipping the Go client tests: ${skipReason}`);

const fixture = join(dirname(fileURLToPath(import.meta.url)), "fixtures", "goclient");

function run(file: string, args: string[], env: NodeJS.ProcessEnv = process.env, cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, cwd, timeout: 170_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== "number") return reject(err);
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
    });
  });
}

describe.skipIf(skipReason !== undefined)(skipReason === undefined ? "moby's Go plugin client" : `${"moby's Go plugin client"} [skipped: ${skipReason}]`, () => {
  let dir: string;
  let client: string;
  const servers: HookPluginServer[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hookplugins-go-"));
    client = join(dir, "goclient");
    // a shared build cache makes the second run fast; the GOPATH stays private
    const cache = join(tmpdir(), "hookplugins-go-cache");
    await mkdir(cache, { recursive: true });
    const env = { ...process.env, GO111MODULE: "off", GOPATH: `${join(dir, "go")}:/usr/share/gocode`, GOFLAGS: "", GOPROXY: "off", GOCACHE: cache };
    const built = await run(go!, ["build", "-o", client, "main.go"], env, fixture);
    if (built.code !== 0) throw new Error(`go build failed: ${built.stderr}`);
  }, 180_000);
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await rm(dir, { recursive: true, force: true });
  });

  it("gets the changed config back from ContainerPlugin.PreCreate over a unix:// address", async () => {
    const server = await serve(envLimitsPlugin, { socket: join(dir, "envlimits.sock"), handleSignals: false });
    servers.push(server);
    const r = await run(client, ["addr", `unix://${server.socketPath}`]);
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({ Config: { Image: "busybox", Env: ["KEEP=1"], HostConfig: { Memory: 536870912 } } });
  });

  it("sees a plugin's error as Docker's `<Method>: <Err>`", async () => {
    const server = await serve({ name: "denier", preCreate: () => { throw new Error("not on my watch"); } }, { socket: join(dir, "denier.sock"), handleSignals: false });
    servers.push(server);
    const r = await run(client, ["addr", `unix://${server.socketPath}`]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe("ContainerPlugin.PreCreate: not on my watch");
  });

  let pki: TestPki | undefined;
  /** The test CA and certificates, made on first use (the TLS tests need openssl, the others do not). */
  const certificates = async (): Promise<TestPki> => (pki ??= await makePki(await mkdtemp(join(dir, "pki-")), toolPath("openssl")));

  /** serve() over TLS on 127.0.0.1, client certificates required. */
  async function serveTls(name = "envlimits"): Promise<HookPluginServer> {
    const { server: cert, ca } = await certificates();
    const server = await serve({ ...envLimitsPlugin, name }, { port: 0, tls: { cert: cert.cert, key: cert.key, ca: ca.cert }, handleSignals: false });
    servers.push(server);
    return server;
  }

  /** A `.json` spec file for `server` whose TLSConfig holds the CA and, unless `withCert` is false, the host's certificate. */
  async function tlsSpec(path: string, server: HookPluginServer, withCert = true): Promise<string> {
    const { ca, client: cert } = await certificates();
    const tlsConfig = { CAFile: ca.certFile, ...(withCert && { CertFile: cert.certFile, KeyFile: cert.keyFile }) };
    await writeFile(path, JSON.stringify({ Name: "envlimits", Addr: server.address, TLSConfig: tlsConfig }));
    return path;
  }

  itWithTools("openssl")("calls a TLS plugin through a .json spec file's TLSConfig (CAFile, CertFile, KeyFile)", async () => {
    const server = await serveTls();
    const r = await run(client, ["spec", await tlsSpec(join(dir, "tls.json"), server)]);
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({ Config: { Image: "busybox", Env: ["KEEP=1"], HostConfig: { Memory: 536870912 } } });
  });

  itWithTools("openssl")("shows the plugin's refusal of a host without a client certificate as Docker's `<Method>: <Err>`", async () => {
    const server = await serveTls();
    const r = await run(client, ["spec", await tlsSpec(join(dir, "nocert.json"), server, false)]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      `ContainerPlugin.PreCreate: this plugin requires a client certificate and the host sent none; give the host a certificate signed by the plugin's CA (its --tls-ca) in its spec file's TLSConfig "CertFile" and "KeyFile"`,
    );
  });

  itWithTools("root", "openssl")('finds a TLS plugin with plugins.Get(name, "ContainerPlugin") from /etc/docker/plugins/<name>.json', async () => {
    const name = `hookplugins-tls-${process.pid}-${randomBytes(4).toString("hex")}`;
    await mkdir("/etc/docker/plugins", { recursive: true });
    const spec = await tlsSpec(`/etc/docker/plugins/${name}.json`, await serveTls(name));
    try {
      const r = await run(client, ["get", name]);
      expect(r.stderr).toBe("");
      expect(JSON.parse(r.stdout)).toEqual({ Config: { Image: "busybox", Env: ["KEEP=1"], HostConfig: { Memory: 536870912 } } });
    } finally {
      await rm(spec, { force: true });
    }
  });

  itWithTools("root")('finds the plugin with plugins.Get(name, "ContainerPlugin") in /run/docker/plugins and calls it', async () => {
    const name = `hookplugins-test-${process.pid}-${randomBytes(4).toString("hex")}`;
    await mkdir("/run/docker/plugins", { recursive: true });
    const server = await serve({ ...envLimitsPlugin, name }, { socket: `/run/docker/plugins/${name}.sock`, handleSignals: false });
    try {
      const r = await run(client, ["get", name]);
      expect(r.stderr).toBe("");
      expect(JSON.parse(r.stdout)).toEqual({ Config: { Image: "busybox", Env: ["KEEP=1"], HostConfig: { Memory: 536870912 } } });
    } finally {
      await server.close();
    }
    expect(existsSync(`/run/docker/plugins/${name}.sock`)).toBe(false);
  });
});
