/**
 * The relay (empty route table) in front of a real dockerd 20.10, driven by the real docker CLI through
 * `DOCKER_HOST=unix://<proxy socket>`: each command runs directly against dockerd's socket and through the relay, and
 * the two must agree. Covers hijacked streams (attach, exec, run -i with stdin closed, run -it on a pseudo-terminal),
 * streaming responses (logs -f, events), large transfers (save/load, a 200 MB image) and version negotiation.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { createReadStream } from "node:fs";
import { mkdir, stat, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { connect } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { IncomingMessage } from "node:http";
import { createRelayServer, type RelayServer } from "../../../src/docker/proxy/relay.js";
import { compileRoutes } from "../../../src/docker/proxy/routeMatcher.js";
import { UpstreamClient } from "../../../src/docker/proxy/upstreamClient.js";
import { describeWithTools, requireTools, toolPath } from "../../support/tools.js";
import { findOnPath, startDockerd, type Dockerd } from "../dockerd.js";
import { until } from "./harness.js";

/** What a docker CLI run gave. */
interface CliResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** A docker CLI process still running (logs -f, events). */
interface CliProcess {
  stdout(): string;
  stderr(): string;
  running(): boolean;
  stop(): Promise<CliResult>;
  done: Promise<CliResult>;
}

let d: Dockerd;
let proxy: RelayServer;
let proxySocket: string;
const suffix = `${process.pid}-${Date.now().toString(36)}`;
const sleeperName = `sleeper-${suffix}`;

/** The two ways to reach dockerd. */
type Route = "direct" | "proxy";
const routes: readonly Route[] = ["direct", "proxy"];

function env(route: Route): NodeJS.ProcessEnv {
  const host = route === "direct" ? d.socketPath : proxySocket;
  return { PATH: process.env.PATH, HOME: d.dir, DOCKER_CONFIG: join(d.dir, "cli"), DOCKER_HOST: `unix://${host}` };
}

/** Starts `file args` with `route`'s DOCKER_HOST; `input` is written to its stdin, which is then closed. */
function start(route: Route, args: readonly string[], options: { input?: string | Buffer; file?: string } = {}): CliProcess {
  const child = spawn(options.file ?? findOnPath("docker")!, [...args], { env: env(route), stdio: ["pipe", "pipe", "pipe"] });
  const out: Buffer[] = [];
  let err = "";
  child.stdout.on("data", (c: Buffer) => out.push(c));
  child.stderr.on("data", (c: Buffer) => (err += c.toString()));
  child.stdin.on("error", () => undefined);
  child.stdin.end(options.input ?? "");
  const done = new Promise<CliResult>((resolve) => {
    child.once("close", (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }));
  });
  return {
    stdout: () => Buffer.concat(out).toString(),
    stderr: () => err,
    running: () => child.exitCode === null && child.signalCode === null,
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      return done;
    },
    done,
  };
}

/** Runs the docker CLI with `route`'s DOCKER_HOST and waits for it (60 s at most). */
async function docker(route: Route, args: readonly string[], options: { input?: string | Buffer; file?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const p = start(route, args, options);
  const timer = setTimeout(() => void p.stop(), options.timeoutMs ?? 60_000);
  try {
    return await p.done;
  } finally {
    clearTimeout(timer);
  }
}

/** Runs the same command both ways, one after the other; `args` may depend on the route (container names). */
async function both(args: (route: Route) => readonly string[], options: { input?: string; file?: string } = {}): Promise<Record<Route, CliResult>> {
  const direct = await docker("direct", args("direct"), options);
  const proxied = await docker("proxy", args("proxy"), options);
  return { direct, proxy: proxied };
}

/** Output and status, for comparing a run direct with one through the relay. */
const seen = (r: CliResult): { code: number | null; stdout: string; stderr: string } => ({ code: r.code, stdout: r.stdout.toString(), stderr: r.stderr });

async function sha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

describeWithTools(["root", "dockerd", "docker", "runc", "busybox"], "the relay in front of a real dockerd 20.10, driven by the docker CLI", () => {
  beforeAll(async () => {
    d = await startDockerd();
    proxySocket = join(d.dir, "proxy.sock");
    proxy = createRelayServer({ upstream: { kind: "unix", path: d.socketPath } });
    await proxy.listen(proxySocket);
    // a running container for exec and cp
    const sleeper = await docker("direct", ["run", "-d", "--name", sleeperName, "--network", "none", "bb", "sleep", "600"]);
    if (sleeper.code !== 0) throw new Error(`cannot start the test container: ${sleeper.stderr}`);
  }, 120_000);

  afterAll(async () => {
    await proxy?.close({ graceMs: 2_000 });
    await d?.stop();
  }, 60_000);

  it("docker version negotiates API 1.41 through the relay as it does directly", async () => {
    const r = await both(() => ["version", "--format", "{{.Server.Version}} {{.Server.APIVersion}} {{.Client.APIVersion}}"]);
    expect(seen(r.proxy)).toEqual(seen(r.direct));
    expect(r.proxy.stdout.toString()).toMatch(/^20\.10\.\S+ 1\.41 1\.41\n$/);
  });

  it("answers HEAD /_ping through the relay with dockerd's own status and headers, and the connection stays usable", async () => {
    const ping = (socketPath: string): Promise<string[]> =>
      new Promise((resolve, reject) => {
        const req = request({ socketPath, method: "HEAD", path: "/_ping", headers: { Host: "api.moby.localhost" } }, (res) => {
          res.resume();
          res.on("end", () => resolve([String(res.statusCode), ...res.rawHeaders.filter((_, i, a) => i % 2 === 0 && a[i] !== "Date").map((n, i) => `${n}: ${res.rawHeaders[res.rawHeaders.indexOf(n) + 1]}`)]));
        });
        req.on("error", reject);
        req.end();
      });
    const direct = await ping(d.socketPath);
    expect(await ping(proxySocket)).toEqual(direct);
    expect(direct).toContain("Api-Version: 1.41");
    const r = await docker("proxy", ["info", "--format", "{{.ServerVersion}}"]);
    expect(r.code).toBe(0);
  });

  it("refuses an API version newer than dockerd's with dockerd's own error", async () => {
    const get = (socketPath: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const req = request({ socketPath, path: "/v1.99/version" }, (res) => {
          let body = "";
          res.on("data", (c: Buffer) => (body += c.toString()));
          res.on("end", () => resolve(`${res.statusCode} ${body}`));
        });
        req.on("error", reject);
        req.end();
      });
    const direct = await get(d.socketPath);
    expect(await get(proxySocket)).toBe(direct);
    expect(direct).toContain("client version 1.99 is too new");
  });

  it("docker ps lists the same containers", async () => {
    await docker("direct", ["create", "--name", `ps-${suffix}`, "--network", "none", "bb", "true"]);
    const r = await both(() => ["ps", "-a", "--format", "{{.Names}} {{.Image}}"]);
    expect(seen(r.proxy)).toEqual(seen(r.direct));
    expect(r.proxy.stdout.toString()).toContain(`ps-${suffix} bb`);
  });

  it("docker run --rm bb echo hi prints hi (attach over a 101 tunnel)", async () => {
    const r = await both(() => ["run", "--rm", "--network", "none", "bb", "echo", "hi"]);
    expect(seen(r.proxy)).toEqual(seen(r.direct));
    expect(seen(r.proxy)).toEqual({ code: 0, stdout: "hi\n", stderr: "" });
  });

  it("docker run -i with stdin piped and closed still delivers the output written after the end of stdin (half-close)", async () => {
    const r = await both(() => ["run", "-i", "--rm", "--network", "none", "bb", "sh", "-c", "cat; echo after-eof; exit 4"], { input: "line1\nline2\n" });
    expect(seen(r.proxy)).toEqual(seen(r.direct));
    expect(seen(r.proxy)).toEqual({ code: 4, stdout: "line1\nline2\nafter-eof\n", stderr: "" });
  });

  it("echo x | docker run -i --rm bb cat prints x", async () => {
    const r = await both(() => ["run", "-i", "--rm", "--network", "none", "bb", "cat"], { input: "x\n" });
    expect(seen(r.proxy)).toEqual(seen(r.direct));
    expect(r.proxy.stdout.toString()).toBe("x\n");
  });

  it("docker exec without -i prints its output and exit status (the CLI half-closes at once)", async () => {
    const r = await both(() => ["exec", sleeperName, "sh", "-c", "echo out; echo err >&2; exit 7"]);
    expect(seen(r.proxy)).toEqual(seen(r.direct));
    expect(seen(r.proxy)).toEqual({ code: 7, stdout: "out\n", stderr: "err\n" });
  });

  it("docker exec -i passes stdin and its end to the process", async () => {
    const r = await both(() => ["exec", "-i", sleeperName, "sh", "-c", "wc -c; echo done"], { input: "abcdef\n" });
    expect(seen(r.proxy)).toEqual(seen(r.direct));
    expect(r.proxy.stdout.toString()).toBe("7\ndone\n");
  });

  it("docker attach passes input to a running container and prints its answer", async () => {
    const results: Partial<Record<Route, CliResult>> = {};
    for (const route of routes) {
      const name = `attach-${route}-${suffix}`;
      expect((await docker("direct", ["create", "-i", "--name", name, "--network", "none", "bb", "sh", "-c", "read x; echo got-$x"])).code).toBe(0);
      expect((await docker("direct", ["start", name])).code).toBe(0);
      results[route] = await docker(route, ["attach", name], { input: "hello\n" });
    }
    expect(seen(results.proxy!)).toEqual(seen(results.direct!));
    expect(seen(results.proxy!)).toEqual({ code: 0, stdout: "got-hello\n", stderr: "" });
  });

  it("the older 200 raw-stream hijack (attach without Upgrade) works through the relay with a half-close", async () => {
    const attachRaw = async (socketPath: string, id: string): Promise<string> => {
      const socket = connect({ path: socketPath, allowHalfOpen: true });
      await once(socket, "connect");
      let text = "";
      socket.on("data", (c: Buffer) => (text += c.toString("latin1")));
      const ended = once(socket, "end");
      socket.write(`POST /v1.41/containers/${id}/attach?stream=1&stdin=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: api.moby.localhost\r\nContent-Length: 0\r\n\r\n`);
      await until(() => text.includes("\r\n\r\n"), "the hijack answer");
      socket.end("hello\n");
      await ended;
      socket.destroy();
      return text;
    };
    const texts: string[] = [];
    for (const route of routes) {
      const name = `raw-${route}-${suffix}`;
      expect((await docker("direct", ["create", "-i", "--name", name, "--network", "none", "bb", "sh", "-c", "read x; echo got-$x"])).code).toBe(0);
      expect((await docker("direct", ["start", name])).code).toBe(0);
      texts.push(await attachRaw(route === "direct" ? d.socketPath : proxySocket, name));
    }
    for (const text of texts) {
      expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\nContent-Type: application\/vnd\.docker\.raw-stream\r\n/);
      expect(text).toContain("got-hello\n");
    }
    expect(texts[1]!.replace(/\r\n\r\n[\s\S]*$/, "")).toBe(texts[0]!.replace(/\r\n\r\n[\s\S]*$/, ""));
  });

  it("docker cp copies a file into a container and back out (tar bodies both ways)", async () => {
    const file = join(d.dir, "cp-source.txt");
    await writeFile(file, "copied\n");
    const r = await both((route) => ["cp", file, `${sleeperName}:/tmp/${route}.txt`]);
    expect(seen(r.proxy)).toEqual(seen(r.direct));
    const out = await both(() => ["cp", `${sleeperName}:/tmp/proxy.txt`, "-"]);
    expect(out.proxy.stdout.equals(out.direct.stdout)).toBe(true);
    expect(out.proxy.stdout.toString()).toContain("copied\n");
  });

  it("docker build (the legacy builder: a chunked context upload and a streamed JSON answer) builds through the relay", async () => {
    const context = join(d.dir, "build-context");
    await mkdir(context, { recursive: true });
    await writeFile(join(context, "Dockerfile"), 'FROM bb\nRUN echo built > /built\nCMD ["cat", "/built"]\n');
    const built = await docker("proxy", ["build", "-q", "-t", `built-${suffix}`, context], { timeoutMs: 120_000 });
    expect(built.code, built.stderr).toBe(0);
    expect(built.stdout.toString()).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    expect(seen(await docker("proxy", ["run", "--rm", "--network", "none", `built-${suffix}`]))).toEqual({ code: 0, stdout: "built\n", stderr: "" });
  }, 120_000);

  it("docker logs -f streams each line as the container writes it", async () => {
    const name = `logs-${suffix}`;
    expect((await docker("direct", ["run", "-d", "--name", name, "--network", "none", "bb", "sh", "-c", "echo one; while [ ! -e /tmp/go ]; do sleep 0.1; done; echo two"])).code).toBe(0);
    const followers = routes.map((route) => start(route, ["logs", "-f", name]));
    await until(() => followers.every((f) => f.stdout() === "one\n"), "the first line through both ways", 20_000);
    expect(followers.every((f) => f.running())).toBe(true);
    expect((await docker("direct", ["exec", name, "touch", "/tmp/go"])).code).toBe(0);
    const [direct, proxied] = await Promise.all(followers.map((f) => f.done));
    expect(seen(proxied!)).toEqual(seen(direct!));
    expect(seen(proxied!)).toEqual({ code: 0, stdout: "one\ntwo\n", stderr: "" });
  });

  it("docker events streams events as they happen", async () => {
    const name = `events-${suffix}`;
    const since = String(Math.floor(Date.now() / 1000) - 1);
    const watchers = routes.map((route) => start(route, ["events", "--since", since, "--filter", `container=${name}`, "--format", "{{.Action}}"]));
    await new Promise((r) => setTimeout(r, 300));
    expect((await docker("direct", ["run", "--rm", "--name", name, "--network", "none", "bb", "true"])).code).toBe(0);
    await until(() => watchers.every((w) => w.stdout().includes("destroy\n")), "the destroy event through both ways", 20_000);
    expect(watchers.every((w) => w.running())).toBe(true);
    const [direct, proxied] = await Promise.all(watchers.map((w) => w.stop()));
    expect(proxied!.stdout.toString()).toBe(direct!.stdout.toString());
    expect(proxied!.stdout.toString().split("\n")).toEqual(expect.arrayContaining(["create", "start", "die", "destroy"]));
  });

  it("docker save bb gives the same bytes through the relay, and docker load takes them back through it", async () => {
    const r = await both(() => ["save", "bb"]);
    expect(r.proxy.code).toBe(0);
    expect(r.proxy.stdout.length).toBeGreaterThan(500_000);
    expect(r.proxy.stdout.equals(r.direct.stdout)).toBe(true);
    const load = await docker("proxy", ["load"], { input: r.proxy.stdout });
    expect(seen(load)).toEqual({ code: 0, stdout: "Loaded image: bb:latest\n", stderr: "" });
  });

  it("a 200 MB image imports, saves byte-exact and loads again through the relay", async () => {
    const work = join(d.dir, "big");
    await mkdir(join(work, "root"), { recursive: true });
    const image = `big-${suffix}:1`;
    // a root filesystem with 200 MB of random bytes, imported through the relay: a 200 MB request body
    const imported = await docker("proxy", ["-c", `head -c 200M /dev/urandom > ${work}/root/blob && tar -C ${work}/root -c . | docker import - ${image}`], { file: "/bin/sh", timeoutMs: 120_000 });
    expect(imported.code, imported.stderr).toBe(0);
    const id = (await docker("direct", ["image", "inspect", "--format", "{{.Id}}", image])).stdout.toString().trim();
    for (const route of routes) expect((await docker(route, ["save", "-o", join(work, `${route}.tar`), image], { timeoutMs: 120_000 })).code).toBe(0);
    expect((await stat(join(work, "proxy.tar"))).size).toBeGreaterThan(200 * 1024 * 1024);
    expect(await sha256(join(work, "proxy.tar"))).toBe(await sha256(join(work, "direct.tar")));
    expect((await docker("direct", ["rmi", image])).code).toBe(0);
    const loaded = await docker("proxy", ["load", "-i", join(work, "proxy.tar")], { timeoutMs: 120_000 });
    expect(seen(loaded)).toEqual({ code: 0, stdout: `Loaded image: ${image}\n`, stderr: "" });
    expect((await docker("direct", ["image", "inspect", "--format", "{{.Id}}", image])).stdout.toString().trim()).toBe(id);
    await docker("direct", ["rmi", image]);
  }, 240_000);

  it("in-process create and start routes serve the docker CLI: the handler's changed body reaches dockerd, the rest passes through", async () => {
    const engine = new UpstreamClient({ kind: "unix", path: d.socketPath });
    const started: string[] = [];
    const readJson = async (req: IncomingMessage): Promise<{ Env?: string[] | null }> => {
      const parts: Buffer[] = [];
      for await (const part of req) parts.push(part as Buffer);
      return JSON.parse(Buffer.concat(parts).toString("utf8")) as { Env?: string[] | null };
    };
    const routed = createRelayServer({
      upstream: { kind: "unix", path: d.socketPath },
      routes: compileRoutes([
        {
          method: "POST",
          path: "/containers/create",
          async handler(req, res) {
            const config = await readJson(req);
            config.Env = [...(config.Env ?? []), "HOOKED=yes"];
            await engine.forward(req, res, { body: JSON.stringify(config) });
          },
        },
        {
          method: "POST",
          path: "/containers/{id}/start",
          async handler(req, res, params) {
            const info = await engine.request("GET", `/containers/${encodeURIComponent(params.id!)}/json`);
            started.push(`${params.id!.length === 64 ? "<id>" : params.id!} ${info.status}`);
            await engine.forward(req, res);
          },
        },
      ]),
    });
    const socket = join(d.dir, "routed.sock");
    await routed.listen(socket);
    try {
      const cli = (args: readonly string[], input?: string): Promise<CliResult> =>
        new Promise((resolve) => {
          const child = spawn(findOnPath("docker")!, [...args], { env: { ...env("proxy"), DOCKER_HOST: `unix://${socket}` } });
          const out: Buffer[] = [];
          let err = "";
          child.stdout.on("data", (c: Buffer) => out.push(c));
          child.stderr.on("data", (c: Buffer) => (err += c.toString()));
          child.stdin.end(input ?? "");
          child.once("close", (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }));
        });
      expect(seen(await cli(["run", "-i", "--rm", "--network", "none", "bb", "sh", "-c", "cat; echo $HOOKED"], "in\n"))).toEqual({ code: 0, stdout: "in\nyes\n", stderr: "" });
      const missing = await cli(["start", `missing-${suffix}`]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain(`No such container: missing-${suffix}`);
      expect(started).toEqual(["<id> 200", `missing-${suffix} 404`]);
    } finally {
      await routed.close({ graceMs: 1_000 });
      engine.close();
    }
  });

  it("docker run -it on a pseudo-terminal prints tty and exits 3", async (ctx) => {
    requireTools(ctx, "script");
    const r = await both(() => ["-qec", 'docker run -it --rm --network none bb sh -c "echo tty; exit 3"', "/dev/null"], { file: toolPath("script") });
    const shown = (x: CliResult): { code: number | null; stdout: string } => ({ code: x.code, stdout: x.stdout.toString().replace(/^\^@/, "") });
    expect(shown(r.proxy)).toEqual(shown(r.direct));
    expect(shown(r.proxy)).toEqual({ code: 3, stdout: "tty\r\n" });
  });
});
