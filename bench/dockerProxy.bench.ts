/**
 * npm run bench:proxy (as root, with dockerd, runc, busybox and the docker CLI): the Docker API proxy against dockerd's
 * own socket, paired in the same run. The proxy runs as `hookplugins docker-proxy` in its own process, in front of a
 * private dockerd 20.10:
 * - passthrough `GET /containers/json`, one request at a time, direct and proxied alternating: p50 (target <= 1.3x);
 * - 32 concurrent keep-alive clients: requests per second (target >= 0.8x direct);
 * - streaming 1 GiB out of a container (`GET /containers/{id}/archive`): throughput (target >= 0.9x direct), and the
 *   proxy's RSS growth while it streams (target < 50 MB);
 * - a hijacked exec round trip (`docker exec c true`): time (target <= 1.3x);
 * - `docker run --rm` end to end with no plugins (target <= 1.1x), and what envlimits + policy add;
 * - 1,000 concurrent `events` streams: every stream gets the event, and the proxy's RSS stays bounded.
 * Prints one line per figure with its target and met or missed.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { cpus, loadavg } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startDockerd, type Dockerd } from "../test/docker/dockerd.js";
import { median, quartiles } from "./pairedRounds.js";

const repoRoot = resolve(fileURLToPath(import.meta.url), "../..");
const rounds = Number(process.env["BENCH_ROUNDS"] ?? 2000);
const gib = Number(process.env["BENCH_STREAM_MB"] ?? 1024);

interface Proxy {
  readonly socket: string;
  readonly child: ChildProcess;
  rssKb(): number;
  stop(): Promise<void>;
}

/** Starts `hookplugins docker-proxy` for a project of `plugins` in front of dockerd (or, with `pipe`, the floor: bench/rawPipe.ts). */
async function startProxy(d: Dockerd, name: string, plugins: readonly string[], pipe = false): Promise<Proxy> {
  const project = join(d.dir, `project-${name}`);
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, "hookplugins.json"), JSON.stringify({ generated: false, plugins: plugins.map((p) => join(repoRoot, "hookplugins", p)) }));
  const socket = join(d.dir, `${name}.sock`);
  const args = pipe
    ? [join(repoRoot, "bench/rawPipe.ts"), socket, d.socketPath]
    : [join(repoRoot, "src/cli/main.ts"), "-C", project, "docker-proxy", "--listen", socket, "--upstream", `unix://${d.socketPath}`, "--handoff-dir", join(d.dir, "handoff")];
  const child = spawn(process.execPath, ["--import", "tsx", ...args], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, HOOKPLUGINS_POLICY: JSON.stringify({ denyPrivileged: true }) },
  });
  let out = "";
  await new Promise<void>((ready, fail) => {
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      if (out.includes("Serving")) ready();
    });
    child.once("exit", (code) => fail(new Error(`docker-proxy exited ${code}: ${out}`)));
  });
  return {
    socket,
    child,
    rssKb: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1] ?? 0),
    stop: async () => {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    },
  };
}

const agents = new Map<string, Agent>();
function get(socket: string, path: string, sink?: (bytes: number) => void): Promise<number> {
  const agent = agents.get(socket) ?? new Agent({ keepAlive: true, maxSockets: 64 });
  agents.set(socket, agent);
  return new Promise((done, fail) => {
    request({ socketPath: socket, path, agent }, (res) => {
      res.on("data", (c: Buffer) => sink?.(c.length));
      res.on("end", () => done(res.statusCode ?? 0));
      res.on("error", fail);
    })
      .on("error", fail)
      .end();
  });
}

function iqr(xs: readonly number[]): string {
  const [q1, q3] = quartiles(xs);
  return `${q1.toFixed(2)}–${q3.toFixed(2)}`;
}

function line(label: string, value: string, target: string, met: boolean | undefined): void {
  console.log(`${label.padEnd(58)} ${value.padEnd(30)} ${target.padEnd(10)} ${met === undefined ? "" : met ? "met" : "MISSED"}`);
}

function docker(d: Dockerd, socket: string, args: readonly string[]): number {
  const t0 = performance.now();
  const r = spawnSync("docker", args, { env: { PATH: process.env["PATH"], HOME: d.dir, DOCKER_CONFIG: join(d.dir, "cli"), DOCKER_HOST: `unix://${socket}` }, stdio: "ignore" });
  if (r.status !== 0) throw new Error(`docker ${args.join(" ")} exited ${r.status}`);
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const d = await startDockerd();
  const plain = await startProxy(d, "plain", []);
  const hooked = await startProxy(d, "hooked", ["envlimits", "policy"]);
  const pipe = await startProxy(d, "pipe", [], true);
  try {
    console.log(`hookplugins bench:proxy, ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC: ${cpus()[0]?.model ?? "unknown CPU"} (${cpus().length} cores), Node ${process.version}, load ${loadavg()[0]!.toFixed(1)}`);
    console.log("dockerd 20.10 (vfs), the proxy as `hookplugins docker-proxy` in its own process; direct = dockerd's own socket. Wall times.\n");

    // 1. passthrough p50, alternating one request at a time
    const sockets = [d.socketPath, plain.socket, pipe.socket];
    for (let i = 0; i < 200; i++) for (const socket of sockets) await get(socket, "/v1.41/containers/json");
    const times: number[][] = [[], [], []];
    for (let i = 0; i < rounds; i++) {
      const order = i % 2 ? [2, 1, 0] : [0, 1, 2];
      for (const k of order) {
        const t0 = performance.now();
        await get(sockets[k]!, "/v1.41/containers/json");
        times[k]!.push(performance.now() - t0);
      }
    }
    const [direct, proxied, piped] = times.map((t) => median(t)) as [number, number, number];
    const p50 = proxied / direct;
    line("GET /containers/json, p50: proxy / direct", `${p50.toFixed(2)}x (${(proxied * 1000).toFixed(0)} vs ${(direct * 1000).toFixed(0)} µs)`, "<= 1.3x", p50 <= 1.3);
    line("  floor: a bare Node pipe / direct", `${(piped / direct).toFixed(2)}x (${(piped * 1000).toFixed(0)} µs)`, "", undefined);

    // 2. 32 concurrent clients, 2 s slices alternating
    const rate = async (socket: string, ms: number): Promise<number> => {
      let n = 0;
      const end = performance.now() + ms;
      await Promise.all(Array.from({ length: 32 }, async () => {
        while (performance.now() < end) {
          await get(socket, "/v1.41/containers/json");
          n++;
        }
      }));
      return (n * 1000) / ms;
    };
    const rates: [number, number, number][] = [];
    for (let i = 0; i < 4; i++) rates.push([await rate(d.socketPath, 1500), await rate(plain.socket, 1500), await rate(pipe.socket, 1500)]);
    const throughput = median(rates.map(([a, b]) => b / a));
    line("32 concurrent clients, requests/s: proxy / direct", `${throughput.toFixed(2)}x (${median(rates.map((r) => r[1])).toFixed(0)} vs ${median(rates.map((r) => r[0])).toFixed(0)}/s)`, ">= 0.8x", throughput >= 0.8);
    line("  floor: a bare Node pipe / direct", `${median(rates.map(([a, , c]) => c / a)).toFixed(2)}x (${median(rates.map((r) => r[2])).toFixed(0)}/s)`, "", undefined);

    // 3. streaming 1 GiB out of a container
    docker(d, d.socketPath, ["run", "--name", "big", "--network", "none", "bb", "dd", "if=/dev/zero", "of=/big", "bs=1M", `count=${gib}`]);
    const stream = async (socket: string, rss?: () => number): Promise<{ mbps: number; growthMb: number }> => {
      const before = rss?.() ?? 0;
      let peak = before;
      let bytes = 0;
      const t0 = performance.now();
      await get(socket, "/v1.41/containers/big/archive?path=/big", (n) => {
        bytes += n;
        if (rss && bytes % (64 << 20) < n) peak = Math.max(peak, rss());
      });
      return { mbps: bytes / 1048576 / ((performance.now() - t0) / 1000), growthMb: (peak - before) / 1024 };
    };
    const streams: { direct: number; proxy: number; pipe: number; growth: number }[] = [];
    for (let i = 0; i < 2; i++) {
      const a = await stream(d.socketPath);
      const b = await stream(plain.socket, plain.rssKb);
      const c = await stream(pipe.socket);
      streams.push({ direct: a.mbps, proxy: b.mbps, pipe: c.mbps, growth: b.growthMb });
    }
    const ratio = median(streams.map((s) => s.proxy / s.direct));
    line(`streaming ${gib} MiB (container archive): proxy / direct`, `${ratio.toFixed(2)}x (${median(streams.map((s) => s.proxy)).toFixed(0)} vs ${median(streams.map((s) => s.direct)).toFixed(0)} MiB/s)`, ">= 0.9x", ratio >= 0.9);
    line("  floor: a bare Node pipe / direct", `${median(streams.map((s) => s.pipe / s.direct)).toFixed(2)}x`, "", undefined);
    const growth = Math.max(...streams.map((s) => s.growth));
    line("  the proxy's RSS growth while streaming", `${growth.toFixed(0)} MB`, "< 50 MB", growth < 50);
    docker(d, d.socketPath, ["rm", "-f", "big"]);

    // 4. hijacked exec round trip
    docker(d, d.socketPath, ["run", "-d", "--name", "execme", "--network", "none", "bb", "sleep", "600"]);
    const execs: number[] = [];
    for (let i = 0; i < 20; i++) {
      const a = docker(d, d.socketPath, ["exec", "execme", "true"]);
      const b = docker(d, plain.socket, ["exec", "execme", "true"]);
      execs.push(i % 2 ? b / a : b / a);
    }
    line("docker exec c true (hijacked): proxy / direct", `${median(execs).toFixed(2)}x (IQR ${iqr(execs)})`, "<= 1.3x", median(execs) <= 1.3);
    docker(d, d.socketPath, ["rm", "-f", "execme"]);

    // 5. docker run --rm end to end
    const runs: number[] = [];
    const hookedRuns: number[] = [];
    const directRuns: number[] = [];
    for (let i = 0; i < 12; i++) {
      const a = docker(d, d.socketPath, ["run", "--rm", "--network", "none", "bb", "true"]);
      const b = docker(d, plain.socket, ["run", "--rm", "--network", "none", "bb", "true"]);
      const c = docker(d, hooked.socket, ["run", "--rm", "--network", "none", "bb", "true"]);
      runs.push(b / a);
      hookedRuns.push(c - a);
      directRuns.push(a);
    }
    line("docker run --rm, no plugins: proxy / direct", `${median(runs).toFixed(2)}x (IQR ${iqr(runs)}; direct ${median(directRuns).toFixed(0)} ms)`, "<= 1.1x", median(runs) <= 1.1);
    line("  what envlimits + policy add to it", `${median(hookedRuns).toFixed(1)} ms`, "", undefined);

    // 6. 1,000 concurrent events streams
    const rssBefore = plain.rssKb();
    const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
    let seen = 0;
    const failures: string[] = [];
    const requestsOpen: ReturnType<typeof request>[] = [];
    const requests = Array.from({ length: 1000 }, () =>
      new Promise<void>((opened) => {
        const req = request({ socketPath: plain.socket, path: "/v1.41/events?filters=%7B%22type%22%3A%5B%22container%22%5D%7D", agent }, (res) => {
          opened();
          let got = false;
          res.on("data", () => {
            if (!got) {
              got = true;
              seen++;
            }
          });
        });
        req.on("error", (error: Error) => {
          failures.push(error.message);
          opened();
        });
        req.end();
        requestsOpen.push(req);
      }),
    );
    await Promise.all(requests);
    docker(d, d.socketPath, ["run", "--rm", "--network", "none", "bb", "true"]);
    const deadline = performance.now() + 20_000;
    while (seen < 1000 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const rssGrowth = (plain.rssKb() - rssBefore) / 1024;
    for (const req of requestsOpen) req.destroy();
    line("1,000 concurrent events streams: streams that got the event", `${seen} / 1000${failures.length ? ` (${failures.length} failed: ${[...new Set(failures)].join("; ")})` : ""}`, "1000", seen === 1000);
    line("  the proxy's RSS growth with 1,000 streams open", `${rssGrowth.toFixed(0)} MB`, "< 100 MB", rssGrowth < 100);
  } finally {
    for (const agent of agents.values()) agent.destroy();
    await plain.stop();
    await hooked.stop();
    await pipe.stop();
    await d.stop();
  }
}

await main();
