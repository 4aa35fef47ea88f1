/**
 * Tests of the proxy's routes: a fake engine on a UNIX socket that records what reaches it, and the relay in front of
 * it with the proxy's route table (built at the first call, after the test registered its plugins).
 */
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHost, createRegistry, type Host, type PluginRegistry } from "hookplugins";
import { createRelayServer, type RelayServer } from "../../../src/docker/proxy/relay.js";
import { UpstreamClient } from "../../../src/docker/proxy/upstreamClient.js";
import { builtinRoutes, matcherOf } from "../../../src/docker/proxy/routes/routeTable.js";
import { RuntimeCheck } from "../../../src/docker/proxy/routes/runtimeCheck.js";
import type { RouteContext } from "../../../src/docker/proxy/routes/context.js";
import { ContainerOrder } from "../../../src/docker/proxy/containerOrder.js";

/** A request the fake engine received. */
export interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: Buffer;
}

/** How the fake engine answers one request (undefined: 404). */
export type EngineReply = (req: Received, res: ServerResponse) => void | Promise<void>;

/** The fake engine, the front, and what they saw. */
export interface RouteHarness {
  readonly dir: string;
  readonly registry: PluginRegistry;
  readonly host: Host;
  readonly handoffDir: string;
  readonly received: Received[];
  readonly logs: string[];
  /** Answers requests matching `method` and `path` (a regular expression on the path without query). */
  on(method: string, path: RegExp, reply: EngineReply): void;
  /** Sends a request to the front; resolves with status, headers and body text. */
  call(method: string, path: string, body?: string | Buffer, headers?: Record<string, string>): Promise<{ status: number; headers: IncomingMessage["headers"]; body: string }>;
  /** Sends a request to the front; resolves with the response as soon as its head arrived, its body still to be read. */
  open(method: string, path: string): Promise<IncomingMessage>;
  close(): Promise<void>;
}

/** Starts a fake engine and a front serving the proxy's routes over `registry`'s plugins. */
export async function startRouteHarness(options: { timeoutMs?: number; updateRoutes?: boolean } = {}): Promise<RouteHarness> {
  const dir = mkdtempSync(join(tmpdir(), "hookplugins-proxy-routes-"));
  const engineSocket = join(dir, "engine.sock");
  const frontSocket = join(dir, "front.sock");
  const received: Received[] = [];
  const replies: { method: string; path: RegExp; reply: EngineReply }[] = [];
  const engine = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const r: Received = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks) };
      received.push(r);
      const path = r.url.split("?")[0]!;
      const found = [...replies].reverse().find((x) => x.method === r.method && x.path.test(path));
      if (!found) {
        res.writeHead(404, { "Content-Type": "application/json" }).end(JSON.stringify({ message: `no such thing: ${path}` }));
        return;
      }
      void Promise.resolve(found.reply(r, res)).catch((error: unknown) => res.destroy(error as Error));
    });
  });
  engine.listen(engineSocket);
  await once(engine, "listening");
  const registry = createRegistry();
  const host = createHost({ registry, ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }) });
  const logs: string[] = [];
  const handoffDir = join(dir, "handoff");
  const api = new UpstreamClient({ kind: "unix", path: engineSocket });
  const ctx: RouteContext = { host, engine: api, handoffDir, log: (line) => logs.push(line), order: new ContainerOrder(), postStart: false };
  const runtimes = new RuntimeCheck(api, true);
  let front: RelayServer | undefined;
  let started: Promise<void> | undefined;
  // the routes are built at the first call, after the test registered its plugins (as the proxy does before it listens)
  const start = async (): Promise<void> => {
    const { specs, passthrough } = builtinRoutes(ctx, runtimes);
    const final = options.updateRoutes === false ? specs : await host.api.updateHandler(specs);
    front = createRelayServer({ upstream: { kind: "unix", path: engineSocket }, routes: matcherOf(final, passthrough) });
    await front.listen(frontSocket);
  };
  return {
    dir,
    registry,
    host,
    handoffDir,
    received,
    logs,
    on: (method, path, reply) => replies.push({ method, path, reply }),
    async call(method, path, body, headers = {}) {
      await (started ??= start());
      return new Promise((resolve, reject) => {
        const req = request({ socketPath: frontSocket, method, path, headers: { ...(body !== undefined && { "Content-Type": "application/json" }), ...headers } }, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          // settled once the request is closed too: a body the front did not read is still being written until then
          res.on("end", () => req.once("close", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") })));
          res.on("error", reject);
        });
        req.on("error", (error: NodeJS.ErrnoException) => (error.code === "EPIPE" || error.code === "ECONNRESET" ? undefined : reject(error)));
        req.end(body);
      });
    },
    async open(method, path) {
      await (started ??= start());
      return new Promise((resolve, reject) => {
        request({ socketPath: frontSocket, method, path }, resolve).on("error", reject).end();
      });
    },
    async close() {
      await started?.catch(() => undefined);
      await front?.close({ graceMs: 100 });
      engine.closeAllConnections();
      engine.close();
      api.close();
      await host.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Answers JSON. */
export function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) }).end(text);
}
