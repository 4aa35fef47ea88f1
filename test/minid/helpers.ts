/**
 * Shared helpers of the minid tests: a daemon in a temp dir, the real docker CLI pointed at it,
 * raw HTTP over the socket, and the OCI runtime-spec schema validator.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createHost, createRegistry, type Host, type PluginRegistry } from "hookplugins";
import { startDaemon, type Daemon, type DaemonOptions } from "../../examples/minid/src/daemon.js";
import { canRunContainers, findTool, itWithTools, toolPath } from "../support/tools.js";

export { ociConfigValidator } from "../support/ociSchema.js";

/** The repository root. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** True when runc really runs containers here (root, runc and busybox found); runc tests skip otherwise. */
export const canRunRunc = canRunContainers();

/** `it` for a test that drives the docker CLI. */
export const itWithDocker = itWithTools("docker");

/** `it` for a test that runs real containers under runc through the docker CLI. */
export const itRunningContainers = itWithTools("root", "runc", "busybox", "docker");

/** A daemon started for one test file, with its own registry, state dir and socket. */
export interface TestDaemon {
  daemon: Daemon;
  registry: PluginRegistry;
  host: Host;
  stateDir: string;
  socketPath: string;
  /** Runs the docker CLI against this daemon. */
  docker(...args: string[]): Promise<DockerResult>;
  /** Sends a raw HTTP request to this daemon. */
  api(method: string, path: string, body?: string | Buffer, headers?: Record<string, string>): Promise<ApiResponse>;
  /** Stops the daemon and removes its state dir. */
  close(): Promise<void>;
}

/** What a docker CLI run printed. */
export interface DockerResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A raw HTTP response. */
export interface ApiResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The body parsed as JSON (undefined when it is not JSON). */
  json: unknown;
}

/** Runs `docker args` with DOCKER_HOST pointing at `socketPath`; never rejects for a non-zero exit. */
export function runDocker(socketPath: string, args: readonly string[]): Promise<DockerResult> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      toolPath("docker"),
      [...args],
      { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: tmpdir(), DOCKER_HOST: `unix://${socketPath}` }, timeout: 20_000 },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== "number") return reject(err);
        resolvePromise({ code: err ? Number(err.code) : 0, stdout, stderr });
      },
    );
  });
}

/** Sends one HTTP request over the UNIX socket. */
export function apiRequest(
  socketPath: string,
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<ApiResponse> {
  return new Promise((resolvePromise, reject) => {
    const req = request({ socketPath, method, path, headers: { ...(body !== undefined ? { "Content-Type": "application/json" } : {}), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const buf = Buffer.concat(chunks);
        let json: unknown;
        try {
          json = JSON.parse(buf.toString("utf8"));
        } catch {
          json = undefined;
        }
        resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body: buf, json });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Starts a daemon in this process with a fresh registry; `setup` registers the test's plugins first. */
export async function startTestDaemon(
  setup: (registry: PluginRegistry) => void = () => undefined,
  options: Partial<Omit<DaemonOptions, "host" | "socketPath" | "stateDir">> & { registry?: PluginRegistry } = {},
): Promise<TestDaemon> {
  const stateDir = await mkdtemp(join(tmpdir(), "minid-test-"));
  const socketPath = join(stateDir, "minid.sock");
  const registry = options.registry ?? createRegistry();
  setup(registry);
  const host = createHost({ registry, timeoutMs: 5000 });
  const { registry: _registry, ...daemonOptions } = options;
  // minid uses exactly the tools the tests found, so HOOKPLUGINS_TEST_NO hides them from both
  const tools = { runc: findTool("runc") ?? "/nonexistent/runc", busybox: findTool("busybox") ?? (false as const) };
  const daemon = await startDaemon({ host, socketPath, stateDir, log: () => undefined, ...tools, ...daemonOptions });
  return {
    daemon,
    registry,
    host,
    stateDir,
    socketPath,
    docker: (...args) => runDocker(socketPath, args),
    api: (method, path, body, headers) => apiRequest(socketPath, method, path, body, headers),
    close: async () => {
      await daemon.stop().catch(() => undefined);
      host.close();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

/** Every config.json under the daemon's containers directory. */
export async function bundleConfigs(stateDir: string): Promise<Array<{ path: string; config: unknown }>> {
  const out: Array<{ path: string; config: unknown }> = [];
  const dir = join(stateDir, "containers");
  for (const id of await readdir(dir)) {
    const path = join(dir, id, "bundle", "config.json");
    if (existsSync(path)) out.push({ path, config: JSON.parse(await readFile(path, "utf8")) });
  }
  return out;
}

/** The bundle directory of container `id`. */
export function bundleDir(stateDir: string, id: string): string {
  return join(stateDir, "containers", id, "bundle");
}
