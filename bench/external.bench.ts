/**
 * npm run bench (second part): one external preCreate round trip over a UNIX socket with keep-alive, against the
 * floor: a bare node:http keep-alive POST of the same body to the same plugin server, in the same run.
 * Also calls per second with 32 concurrent callers, and p50/p99 latency beside the same plugin in-process.
 * Then the same plugin over TCP with TLS (client certificates required) against plain TCP, served by one process and
 * called by one host each through spec files: calls per second with 32 callers, as a ratio (target: at least 0.7x).
 * BENCH_EXTERNAL_MS (default 1500) sets each measurement's length, BENCH_ROUNDS (default 3) the rounds.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { Agent, request } from "node:http";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createHost, createRegistry, type ContainerCreateConfig } from "hookplugins";
import { loadExternalPlugins } from "hookplugins/external";
import { benchPlugin } from "./externalPlugin.js";
import { makePki } from "../test/external/tlsCerts.js";

const timeMs = Number(process.env["BENCH_EXTERNAL_MS"] ?? 1500);
const rounds = Number(process.env["BENCH_ROUNDS"] ?? 3);
const concurrency = 32;

const newConfig = (): ContainerCreateConfig => ({ Image: "busybox", Env: ["A=1", "B=2"], Labels: { app: "web" } });

type Call = () => Promise<unknown>;

/** Calls `call` from `callers` concurrent loops for `ms`; returns per-call latencies (ms) and calls per second. */
async function measure(call: Call, callers: number, ms: number): Promise<{ latencies: number[]; perSecond: number }> {
  const latencies: number[] = [];
  const end = performance.now() + ms;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        await call();
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { latencies, perSecond: latencies.length / ((performance.now() - started) / 1000) };
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const us = (ms: number): string => `${(ms * 1000).toFixed(1)} µs`;

/** The plugin server's CPU time so far in µs, from /proc (Linux; 0 elsewhere); its resolution is one clock tick. */
function serverCpuUs(): number {
  try {
    const fields = readFileSync(`/proc/${server.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / clockTicks;
  } catch {
    return 0;
  }
}
const clockTicks = 100; // USER_HZ, 100 on Linux

const dir = await mkdtemp(join(os.tmpdir(), "hookplugins-bench-"));
const socket = join(dir, "bench.sock");
const server = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("./externalServer.ts", import.meta.url)), socket], { stdio: ["ignore", "pipe", "inherit"] });
await new Promise<void>((resolve, reject) => {
  server.stdout!.once("data", () => resolve());
  server.once("exit", (code) => reject(new Error(`the plugin server exited with ${code}`)));
});

try {
  // the external plugin through a host, exactly as a host runs it (default host options: timeouts on)
  const registry = createRegistry();
  const external = await loadExternalPlugins(registry, { socketDirs: [dir] });
  const host = createHost({ registry, external });
  const viaHost: Call = () => host.container.preCreate(newConfig());

  // the floor: a bare keep-alive POST of the same body with the same headers (Docker's Accept and Content-Length)
  // to the same server, through an agent with the host's settings, reply parsed
  const agent = new Agent({ keepAlive: true, maxSockets: 64, maxFreeSockets: 64, scheduling: "lifo" });
  const accept = "application/vnd.docker.plugins.v1.2+json";
  const bare: Call = () =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify({ Config: newConfig() });
      const headers = { Accept: accept, "Content-Length": Buffer.byteLength(body) };
      const req = request({ socketPath: socket, agent, method: "POST", path: "/ContainerPlugin.PreCreate", headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve(JSON.parse(Buffer.concat(chunks).toString("utf8"))));
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(body);
    });

  // the same plugin in-process
  const local = createRegistry();
  local.registerContainerPlugin(benchPlugin);
  const localHost = createHost({ registry: local });
  const inProcess: Call = () => localHost.container.preCreate(newConfig());

  const check = (await viaHost()) as ContainerCreateConfig;
  if (check.Labels?.["bench"] !== "1") throw new Error(`the external plugin did not apply: ${JSON.stringify(check)}`);

  await measure(bare, 1, 300); // warm-up
  await measure(viaHost, 1, 300);
  await measure(inProcess, 1, 100);

  // The two sides alternate in short slices, so that load from other processes on a shared machine hits both alike.
  // Besides wall time, each side's CPU time per call is counted: this process's, and the plugin server's.
  const cpu = { host: { calls: 0, client: 0, server: 0 }, bare: { calls: 0, client: 0, server: 0 } };
  async function compare(callers: number): Promise<{ host: number; bare: number; hostLatencies: number[] }> {
    const totals = { host: { calls: 0, ms: 0 }, bare: { calls: 0, ms: 0 } };
    const hostLatencies: number[] = [];
    const slices = Math.max(2, Math.round(timeMs / 100));
    for (let i = 0; i < slices; i++) {
      for (const side of i % 2 === 0 ? (["bare", "host"] as const) : (["host", "bare"] as const)) {
        const client0 = process.cpuUsage();
        const server0 = serverCpuUs();
        const r = await measure(side === "host" ? viaHost : bare, callers, 100);
        const client = process.cpuUsage(client0);
        cpu[side].client += client.user + client.system;
        cpu[side].server += serverCpuUs() - server0;
        cpu[side].calls += r.latencies.length;
        totals[side].calls += r.latencies.length;
        totals[side].ms += r.latencies.length / r.perSecond * 1000;
        if (side === "host") hostLatencies.push(...r.latencies);
      }
    }
    return { host: (totals.host.calls / totals.host.ms) * 1000, bare: (totals.bare.calls / totals.bare.ms) * 1000, hostLatencies };
  }

  const seq = { host: [] as number[], bare: [] as number[] };
  const par = { host: [] as number[], bare: [] as number[] };
  let hostLatencies: number[] = [];
  let localLatencies: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const one = await compare(1);
    seq.bare.push(one.bare);
    seq.host.push(one.host);
    hostLatencies = hostLatencies.concat(one.hostLatencies);
    localLatencies = localLatencies.concat((await measure(inProcess, 1, Math.min(timeMs, 500))).latencies);
    const many = await compare(concurrency);
    par.bare.push(many.bare);
    par.host.push(many.host);
  }
  hostLatencies.sort((a, b) => a - b);
  localLatencies.sort((a, b) => a - b);

  const seqHostUs = 1e6 / median(seq.host);
  const seqBareUs = 1e6 / median(seq.bare);
  const cpuModel = os.cpus()[0]?.model.trim() ?? "unknown CPU";
  console.log(`\nExternal preCreate over a UNIX socket with keep-alive (median of ${rounds} rounds of ${timeMs} ms); machine: ${cpuModel}, ${os.cpus().length} cores, load average ${os.loadavg()[0]!.toFixed(1)}, Node ${process.version}:\n`);
  console.log("| measurement | hookplugins host → external plugin | bare node:http keep-alive POST (floor) | ratio |");
  console.log("|---|---:|---:|---:|");
  console.log(`| one caller: mean time per call | ${seqHostUs.toFixed(1)} µs | ${seqBareUs.toFixed(1)} µs | ${(seqHostUs / seqBareUs).toFixed(2)}x |`);
  console.log(`| ${concurrency} concurrent callers: calls per second | ${Math.round(median(par.host))} | ${Math.round(median(par.bare))} | ${(median(par.bare) / median(par.host)).toFixed(2)}x |`);
  const perCall = (side: "host" | "bare", who: "client" | "server"): number => cpu[side][who] / cpu[side].calls;
  console.log(`| CPU per call, calling process (all runs) | ${perCall("host", "client").toFixed(1)} µs | ${perCall("bare", "client").toFixed(1)} µs | ${(perCall("host", "client") / perCall("bare", "client")).toFixed(2)}x |`);
  if (serverCpuUs() > 0) {
    const both = (side: "host" | "bare"): number => perCall(side, "client") + perCall(side, "server");
    console.log(`| CPU per call, plugin server (all runs) | ${perCall("host", "server").toFixed(1)} µs | ${perCall("bare", "server").toFixed(1)} µs | ${(perCall("host", "server") / perCall("bare", "server")).toFixed(2)}x |`);
    console.log(`| CPU per call, both processes | ${both("host").toFixed(1)} µs | ${both("bare").toFixed(1)} µs | ${(both("host") / both("bare")).toFixed(2)}x |`);
  }
  console.log("\n| latency, one caller | external plugin | same plugin in-process |");
  console.log("|---|---:|---:|");
  console.log(`| p50 | ${us(percentile(hostLatencies, 50))} | ${us(percentile(localLatencies, 50))} |`);
  console.log(`| p99 | ${us(percentile(hostLatencies, 99))} | ${us(percentile(localLatencies, 99))} |`);
  const ratio = seqHostUs / seqBareUs;
  console.log(`\ntargets: within 1.3x of the floor: ${ratio <= 1.3 ? "met" : "NOT met"} (${ratio.toFixed(2)}x); at least 10,000 calls/s with ${concurrency} callers: ${median(par.host) >= 10_000 ? "met" : "NOT met"} (${Math.round(median(par.host))}/s)`);
  await host.close();
  agent.destroy();
  await compareTls();
} finally {
  server.kill("SIGTERM");
  await new Promise((r) => server.once("exit", r));
  await rm(dir, { recursive: true, force: true });
}

/** Starts `script` (a plugin process) with `args`; resolves with it and the words of its "ready ..." line. */
async function startPluginProcess(script: string, args: string[]): Promise<{ child: ReturnType<typeof spawn>; words: string[] }> {
  const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL(script, import.meta.url)), ...args], { stdio: ["ignore", "pipe", "inherit"] });
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout!.once("data", (chunk) => resolve(String(chunk).trim()));
    child.once("exit", (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return { child, words: line.split(" ").slice(1) };
}

/** TLS against plain TCP: the same plugin in one process, one host per transport, alternating slices of 32 callers. */
async function compareTls(): Promise<void> {
  const tlsDir = await mkdtemp(join(os.tmpdir(), "hookplugins-bench-tls-"));
  const pki = await makePki(tlsDir, "openssl");
  const plugin = await startPluginProcess("./externalTlsServer.ts", [pki.server.certFile, pki.server.keyFile, pki.ca.certFile]);
  const [plainAddress, tlsAddress] = plugin.words as [string, string];
  const hosts: Array<{ close(): Promise<void> }> = [];
  try {
    const hostOf = async (name: string, spec: object): Promise<Call> => {
      const specs = join(tlsDir, name);
      await mkdir(specs);
      await writeFile(join(specs, "bench.json"), JSON.stringify(spec));
      const registry = createRegistry();
      const external = await loadExternalPlugins(registry, { specDirs: [specs], allowTcp: true });
      const h = createHost({ registry, external });
      hosts.push(h);
      return () => h.container.preCreate(newConfig());
    };
    const plain = await hostOf("plain", { Name: "bench", Addr: plainAddress });
    const tls = await hostOf("tls", { Name: "bench", Addr: tlsAddress, TLSConfig: { CAFile: pki.ca.certFile, CertFile: pki.client.certFile, KeyFile: pki.client.keyFile } });
    await measure(plain, concurrency, 300); // warm-up, and every connection's handshake done
    await measure(tls, concurrency, 300);
    const perSecond = { plain: [] as number[], tls: [] as number[] };
    const ratios: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const totals = { plain: { calls: 0, ms: 0 }, tls: { calls: 0, ms: 0 } };
      const slices = Math.max(2, Math.round(timeMs / 100));
      for (let i = 0; i < slices; i++) {
        for (const side of i % 2 === 0 ? (["plain", "tls"] as const) : (["tls", "plain"] as const)) {
          const m = await measure(side === "tls" ? tls : plain, concurrency, 100);
          totals[side].calls += m.latencies.length;
          totals[side].ms += (m.latencies.length / m.perSecond) * 1000;
        }
      }
      const round = { plain: (totals.plain.calls / totals.plain.ms) * 1000, tls: (totals.tls.calls / totals.tls.ms) * 1000 };
      perSecond.plain.push(round.plain);
      perSecond.tls.push(round.tls);
      ratios.push(round.tls / round.plain);
    }
    const ratio = median(ratios);
    console.log(`\nThe same external plugin over TCP, TLS (client certificates required) against plain, ${concurrency} concurrent callers (median of ${rounds} rounds of ${timeMs} ms):\n`);
    console.log("| measurement | TLS | plain TCP | ratio TLS / plain |");
    console.log("|---|---:|---:|---:|");
    console.log(`| calls per second | ${Math.round(median(perSecond.tls))} | ${Math.round(median(perSecond.plain))} | ${ratio.toFixed(2)}x |`);
    console.log(`\ntarget: TLS throughput at least 0.7x plain: ${ratio >= 0.7 ? "met" : "NOT met"} (${ratio.toFixed(2)}x)`);
  } finally {
    await Promise.all(hosts.map((h) => h.close()));
    plugin.child.kill("SIGTERM");
    await new Promise((r) => plugin.child.once("exit", r));
    await rm(tlsDir, { recursive: true, force: true });
  }
}
