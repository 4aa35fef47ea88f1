/**
 * createDockerProxy in front of a fake engine (no engine needed): the daemon hooks' timing (preStartHook before it
 * accepts connections, a failing one leaves no socket, preStopHook after the requests in flight), and a TCP listener
 * only with TLS and client certificates.
 */
import { once } from "node:events";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { createHost, createRegistry, type Host, type PluginRegistry } from "hookplugins";
import { createDockerProxy, DockerProxyError, type DockerProxy } from "../../../src/docker/proxy/dockerProxy.js";
import { testCert, testKey } from "./fixtures/tlsFixture.js";

let dir: string;
let engine: Server;
let engineSocket: string;
let plugins: PluginRegistry;
let host: Host;
let proxy: DockerProxy | undefined;
/** Held engine answers, by path: the test ends them. */
let held: Map<string, ServerResponse>;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "hookplugins-create-proxy-"));
  engineSocket = join(dir, "engine.sock");
  held = new Map();
  engine = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      if (req.url?.endsWith("/hold")) {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.write("[");
        held.set(req.url, res);
        return;
      }
      res.writeHead(200, { "Content-Type": "text/plain" }).end("OK");
    });
  });
  engine.listen(engineSocket);
  await once(engine, "listening");
  plugins = createRegistry();
  host = createHost({ registry: plugins, timeoutMs: 2000 });
});

afterEach(async () => {
  await proxy?.close({ graceMs: 100 }).catch(() => undefined);
  proxy = undefined;
  await host.close();
  engine.closeAllConnections();
  engine.close();
  rmSync(dir, { recursive: true, force: true });
});

/** What connecting to the UNIX socket `path` gives: "connected", or the error's code. */
function tryConnect(path: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once("connect", () => (socket.destroy(), resolve("connected")));
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

/** GET `path` on the proxy's socket; resolves at the response head. */
function open(socket: string, path: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => request({ socketPath: socket, path }, resolve).on("error", reject).end());
}

it("runs DaemonPlugin.preStartHook before the proxy accepts connections: the hook cannot connect to its socket", async () => {
  const socket = join(dir, "proxy.sock");
  let seen: string | undefined;
  plugins.registerDaemonPlugin({ name: "early", preStartHook: async () => void (seen = await tryConnect(socket)) });
  proxy = await createDockerProxy({ host, listen: socket, upstream: `unix://${engineSocket}`, handoffDir: join(dir, "handoff"), log: () => {} });
  expect(["ENOENT", "ECONNREFUSED"]).toContain(seen);
  expect(await tryConnect(socket)).toBe("connected");
});

it("rejects with the preStartHook's failure and leaves no socket file when a preStartHook throws", async () => {
  const socket = join(dir, "proxy.sock");
  plugins.registerDaemonPlugin({ name: "broken", preStartHook: () => { throw new Error("no config"); } });
  await expect(createDockerProxy({ host, listen: socket, upstream: `unix://${engineSocket}`, handoffDir: join(dir, "handoff"), log: () => {} })).rejects.toThrow(
    'plugin "broken" failed in DaemonPlugin.preStartHook: no config',
  );
  expect(existsSync(socket)).toBe(false);
});

it("runs DaemonPlugin.preStopHook on close only after the response in flight has ended", async () => {
  const socket = join(dir, "proxy.sock");
  const events: string[] = [];
  plugins.registerDaemonPlugin({ name: "late", preStopHook: () => void events.push("preStopHook") });
  proxy = await createDockerProxy({ host, listen: socket, upstream: `unix://${engineSocket}`, handoffDir: join(dir, "handoff"), log: () => {} });
  const res = await open(socket, "/v1.41/containers/hold");
  let body = "";
  res.on("data", (c: Buffer) => (body += c.toString("utf8")));
  const ended = new Promise<void>((resolve) => res.on("end", () => (events.push("response ended"), resolve())));
  const closed = proxy.close({ graceMs: 10_000 });
  await new Promise((r) => setTimeout(r, 200));
  expect(events).toEqual([]);
  held.get("/v1.41/containers/hold")!.end("]");
  await ended;
  await closed;
  expect(body).toBe("[]");
  expect(events).toEqual(["response ended", "preStopHook"]);
});

/** The TCP proxy's address as host and port. */
function tcpTarget(p: DockerProxy): { host: string; port: number } {
  const url = new URL(p.address.replace(/^tcp:/, "https:"));
  return { host: url.hostname, port: Number(url.port) };
}

/** GET /_ping over TLS, with or without the client certificate; resolves with the status or the error's message. */
function ping(p: DockerProxy, withCert: boolean): Promise<{ status?: number; body?: string; error?: string }> {
  return new Promise((resolve) => {
    const req = httpsRequest(
      { ...tcpTarget(p), path: "/_ping", ca: testCert, servername: "localhost", agent: false, ...(withCert && { cert: testCert, key: testKey }) },
      (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString("utf8")));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        res.on("error", (error) => resolve({ error: error.message }));
      },
    );
    req.on("error", (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    req.end();
  });
}

const tls = { ca: testCert, cert: testCert, key: testKey };

it("serves GET /_ping over TCP with TLS to a client with a certificate the CA signed", async () => {
  proxy = await createDockerProxy({ host, listen: { port: 0, tls }, upstream: `unix://${engineSocket}`, handoffDir: join(dir, "handoff"), daemonHooks: false, log: () => {} });
  expect(proxy.address).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
  expect(await ping(proxy, true)).toEqual({ status: 200, body: "OK" });
});

it("fails the TLS handshake of a client without a certificate over TCP", async () => {
  proxy = await createDockerProxy({ host, listen: { port: 0, tls }, upstream: `unix://${engineSocket}`, handoffDir: join(dir, "handoff"), daemonHooks: false, log: () => {} });
  const reply = await ping(proxy, false);
  expect(reply.status).toBeUndefined();
  expect(reply.error).toMatch(/CERTIFICATE_REQUIRED|ECONNRESET/);
});

it("refuses a TCP listener without TLS with a DockerProxyError, before any daemon hook runs", async () => {
  let started = false;
  plugins.registerDaemonPlugin({ name: "early", preStartHook: () => void (started = true) });
  const listen = { port: 0 } as unknown as Parameters<typeof createDockerProxy>[0]["listen"];
  const attempt = createDockerProxy({ host, listen, upstream: `unix://${engineSocket}`, handoffDir: join(dir, "handoff"), log: () => {} });
  await expect(attempt).rejects.toBeInstanceOf(DockerProxyError);
  await expect(attempt).rejects.toThrow(/a TCP listener needs TLS with client certificates/);
  expect(started).toBe(false);
});
