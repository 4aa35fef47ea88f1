/**
 * npm run bench:cri (as root, with containerd 1.6, ctr, runc and busybox): the CRI relay (hookplugins/cri) against
 * containerd's own CRI socket, paired in the same run with the same gRPC client (@grpc/grpc-js, test/cri/criClient.ts).
 * A private containerd with its CRI plugin (test/support/engines/containerd.ts); the relay runs in its own process
 * (bench/criRelayServer.ts: test/cri/relayFixture.ts's relay, envlimits + policy, and a second one with no plugins),
 * as it does beside a kubelet, on the built package (dist/: `npm run bench:cri` builds it first), plain node, no tsx. Two floors beside it, each in its own process too: a bare Node socket pipe
 * (bench/rawPipe.ts), the least a Node hop costs, and a minimal Node HTTP/2 relay (bench/http2Floor.ts: per stream, a
 * stream on one connection to containerd with the same headers, the body, the reply's headers, data and trailers; no
 * plugins, no checks), the least any relay built on Node's http2 module can cost.
 * - unary `Version` and `ListContainers` (5 running containers), one call at a time, direct / relay / both floors
 *   alternating: p50 and p99 of each, and what the relay adds at p50 (target <= 1 ms);
 * - 32 concurrent callers on one channel, slices of fixed time alternating: calls per second, relay / direct
 *   (target >= 0.7x; a missed target names the HTTP/2 floor: below it, no relay on Node's http2 can meet it), with the
 *   CPU time per call of the client, containerd, the relay and the HTTP/2 floor, and how busy the machine was (when it
 *   is saturated, the ratio is about the ratio of the total CPU per call);
 * - CreateContainer (envlimits + policy) through the relay against direct, one create of each per round in
 *   alternating order, each container removed after: the median of the per-round differences and each median; the
 *   same through the relay with no plugins, which splits the relay's own cost from the plugins'.
 * Wall times. BENCH_ROUNDS (2000) sets the latency rounds, BENCH_SLICE_MS (1200) and BENCH_SLICES (6) the throughput
 * slices, BENCH_CREATE_ROUNDS (30) the create rounds; BENCH_RELAY=in-process runs the relay in this process;
 * BENCH_CPU_PROF=<dir> runs the relay process under `node --cpu-prof` and writes its profile there.
 * Ctrl-C stops the relay and containerd.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { basename, join, resolve } from "node:path";
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import { startContainerd, type Containerd } from "../test/support/engines/containerd.js";
import { containerConfig, criClient, podConfig, type CriClient } from "../test/cri/criClient.js";
import { startRelay } from "../test/cri/relayFixture.js";
import { median, quartiles } from "./pairedRounds.js";

const repoRoot = resolve(fileURLToPath(import.meta.url), "../..");
const latencyRounds = Number(process.env["BENCH_ROUNDS"] ?? 2000);
const sliceMs = Number(process.env["BENCH_SLICE_MS"] ?? 1200);
const slices = Number(process.env["BENCH_SLICES"] ?? 6);
const createRounds = Number(process.env["BENCH_CREATE_ROUNDS"] ?? 30);
const inProcess = process.env["BENCH_RELAY"] === "in-process";
const profileDir = process.env["BENCH_CPU_PROF"];
const concurrency = 32;
const presentContainers = 5;

/** The relays: one with envlimits + policy, one with no plugins. */
interface Relays {
  /** The socket of the relay with envlimits and policy. */
  readonly hooked: string;
  /** The socket of the relay with no plugins. */
  readonly plain: string;
  /** The relay process's pid (this process's when it runs here). */
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * `script` bundled into dist-bench/ as plain JavaScript that imports the library from the built package (dist/, what a
 * node runs: `hookplugins` and its subpaths resolve to it by the package's own name), so that no TypeScript loader
 * runs in the measured process.
 */
async function bundled(script: string): Promise<string> {
  const outfile = join(repoRoot, "dist-bench", basename(script).replace(/\.ts$/, ".mjs"));
  await build({
    entryPoints: [fileURLToPath(new URL(script, import.meta.url))],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    external: ["hookplugins", "hookplugins/*"],
    logLevel: "warning",
  });
  return outfile;
}

/** Starts `script args` (bundled: see bundled()) under node; resolves with its child and the match of `ready` in its stdout. */
async function startScript(script: string, args: readonly string[], ready: RegExp, nodeFlags: readonly string[] = []): Promise<{ child: ChildProcess; match: RegExpExecArray; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [...nodeFlags, await bundled(script), ...args], {
    cwd: repoRoot,
    stdio: ["pipe", "pipe", "inherit"], // the relay process exits when its stdin closes
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const match = await new Promise<RegExpExecArray>((resolve, fail) => {
    let out = "";
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      const m = ready.exec(out);
      if (m) resolve(m);
    });
    child.once("exit", (code) => fail(new Error(`${script} exited with ${code}: ${out}`)));
  });
  return {
    child,
    match,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/** CPU time (user + system, ms) of process `pid` so far, from /proc (in ticks of 10 ms: USER_HZ 100). */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The machine's busy and total CPU time so far (ms, all cores, all processes), from /proc/stat. */
function machineCpuMs(): { busy: number; total: number } {
  const ticks = readFileSync("/proc/stat", "utf8").split("\n")[0]!.split(/\s+/).slice(1, 9).map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  return { busy: (total - ticks[3]! - ticks[4]!) * 10, total: total * 10 }; // idle and iowait are not busy
}

/** Starts bench/criRelayServer.ts in its own process (or the two relays here, BENCH_RELAY=in-process). */
async function startRelays(upstream: string): Promise<Relays> {
  if (inProcess) {
    const hooked = await startRelay(upstream, { denyPrivileged: true });
    const plain = await startRelay(upstream);
    plain.registry.clear();
    return { hooked: hooked.socketPath, plain: plain.socketPath, pid: process.pid, stop: async () => void (await Promise.all([hooked.stop(), plain.stop()])) };
  }
  const prof = profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [];
  const server = await startScript("./criRelayServer.ts", [upstream], /^ready (\S+) (\S+)\n/, prof);
  return { hooked: server.match[1]!, plain: server.match[2]!, pid: server.child.pid!, stop: server.stop };
}

/** The value at percentile `p` of a list. */
function percentile(xs: readonly number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

function line(label: string, value: string, target: string, met: boolean | undefined, floor = ""): void {
  console.log(`${label.padEnd(70)} ${value.padEnd(52)} ${target.padEnd(9)} ${met === undefined ? "" : met ? "met" : `MISSED${floor}`}`);
}

/** Runs the calls in turn, one at a time, the order reversed every other round; returns each one's times (ms). */
async function alternating(rounds: number, ...calls: (() => Promise<unknown>)[]): Promise<number[][]> {
  const times = calls.map((): number[] => []);
  for (let i = 0; i < rounds; i++) {
    const order = calls.map((_, k) => k);
    if (i % 2) order.reverse();
    for (const k of order) {
      const t0 = performance.now();
      await calls[k]!();
      times[k]!.push(performance.now() - t0);
    }
  }
  return times;
}

/** Calls per second of `call` from `concurrency` loops for `ms`. */
async function rate(call: () => Promise<unknown>, ms: number): Promise<number> {
  let n = 0;
  const t0 = performance.now();
  const end = t0 + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await call();
        n++;
      }
    }),
  );
  return (n * 1000) / (performance.now() - t0);
}

const ms = (x: number): string => x.toFixed(3);

let starting: Promise<Containerd> | undefined;
let relays: Relays | undefined;
let pipe: Awaited<ReturnType<typeof startScript>> | undefined;
let h2floor: Awaited<ReturnType<typeof startScript>> | undefined;
const clients: CriClient[] = [];
let cleaning: Promise<void> | undefined;
/** Closes the clients, the relay, the pipe and containerd (once, also on Ctrl-C, also while containerd starts). */
const cleanup = (): Promise<void> =>
  (cleaning ??= (async () => {
    for (const c of clients) c.close();
    await relays?.stop().catch((e: unknown) => console.error(`stopping the relay: ${String(e)}`));
    await pipe?.stop();
    await h2floor?.stop();
    await (await starting?.catch(() => undefined))?.stop();
  })());
let interrupted = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  // on: a Ctrl-C reaches this process twice (from the terminal, and relayed by tsx); a second one must not kill it mid-cleanup
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\n${signal}: stopping the relay and containerd`);
    void cleanup().finally(() => process.exit(130));
  });
}

/** What one throughput slice measured: calls per second, CPU µs per call (this process, then each of `pids`), machine busy share. */
interface Slice {
  readonly perSecond: number;
  readonly cpuUs: number[];
  readonly machineBusy: number;
}

/** Runs `run` (one slice, resolving with calls per second) and measures the CPU it took. */
async function slice(pids: readonly (number | undefined)[], run: () => Promise<number>): Promise<Slice> {
  const self0 = process.cpuUsage();
  const machine0 = machineCpuMs();
  const before = pids.map((pid) => (pid === undefined ? 0 : cpuMsOf(pid)));
  const t0 = performance.now();
  const perSecond = await run();
  const calls = (perSecond * (performance.now() - t0)) / 1000;
  const self = process.cpuUsage(self0);
  const machine1 = machineCpuMs();
  const cpuUs = [(self.user + self.system) / calls, ...pids.map((pid, i) => (pid === undefined ? 0 : ((cpuMsOf(pid) - before[i]!) * 1000) / calls))];
  return { perSecond, cpuUs, machineBusy: (machine1.busy - machine0.busy) / (machine1.total - machine0.total) };
}

try {
  console.log(`hookplugins bench:cri, ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC: ${cpus()[0]?.model ?? "unknown CPU"} (${cpus().length} cores), Node ${process.version}, load ${loadavg()[0]!.toFixed(1)}`);
  starting = startContainerd({ cri: true });
  const containerd = await starting;
  relays = await startRelays(containerd.socketPath);
  pipe = await startScript("./rawPipe.ts", [join(containerd.dir, "pipe.sock"), containerd.socketPath], /Serving/);
  h2floor = await startScript("./http2Floor.ts", [join(containerd.dir, "h2floor.sock"), containerd.socketPath], /Serving/);
  const relayPid = inProcess ? undefined : relays.pid;
  const direct = criClient(containerd.socketPath);
  const relay = criClient(relays.hooked);
  const relayPlain = criClient(relays.plain);
  const piped = criClient(join(containerd.dir, "pipe.sock"));
  const h2relay = criClient(join(containerd.dir, "h2floor.sock"));
  clients.push(direct, relay, relayPlain, piped, h2relay);
  const version = await direct.runtime<{ runtime_name: string; runtime_version: string }>("Version", {});
  console.log(
    `${version.runtime_name} ${version.runtime_version} (CRI); the relay ${inProcess ? "in this process" : "in its own process"} (envlimits + policy); direct = containerd's own socket, same grpc-js client; floors = a bare Node socket pipe (bench/rawPipe.ts) and a minimal Node HTTP/2 relay (bench/http2Floor.ts), each in its own process. Wall times.\n`,
  );

  // a pod and a few running containers for ListContainers
  const pod = podConfig("bench");
  const podId = (await direct.runtime<{ pod_sandbox_id: string }>("RunPodSandbox", { config: pod })).pod_sandbox_id;
  for (let i = 0; i < presentContainers; i++) {
    const { container_id } = await direct.runtime<{ container_id: string }>("CreateContainer", { pod_sandbox_id: podId, config: containerConfig(`present-${i}`, containerd.image), sandbox_config: pod });
    await direct.runtime("StartContainer", { container_id });
  }

  // 1. unary latency, one call at a time, direct / relay / floor alternating
  const unary = [
    { method: "Version", label: "Version" },
    { method: "ListContainers", label: `ListContainers (${presentContainers} containers)` },
  ];
  for (const { method, label } of unary) {
    const calls = [direct, relay, piped, h2relay].map((c) => () => c.runtime(method, {}));
    await alternating(200, ...calls); // warm-up
    const [d, r, f, h] = await alternating(latencyRounds, ...calls);
    const added = median(r!) - median(d!);
    line(
      `${label}, ${latencyRounds} rounds one at a time: relay adds at p50`,
      `${ms(added)} ms (p50 ${ms(median(r!))} vs ${ms(median(d!))}; p99 ${ms(percentile(r!, 99))} vs ${ms(percentile(d!, 99))})`,
      "<= 1 ms",
      added <= 1,
    );
    line("  floor: a bare Node socket pipe adds at p50", `${ms(median(f!) - median(d!))} ms (p99 ${ms(percentile(f!, 99))})`, "", undefined);
    line("  floor: a minimal Node HTTP/2 relay adds at p50", `${ms(median(h!) - median(d!))} ms (p99 ${ms(percentile(h!, 99))})`, "", undefined);
  }

  // 2. throughput, 32 concurrent callers on one channel, slices of direct / relay / floor alternating
  for (const { method, label } of unary) {
    const contenders = [direct, relay, piped, h2relay].map((c) => () => c.runtime(method, {}));
    for (const call of contenders) await rate(call, 300); // warm-up
    const rounds: Slice[][] = [];
    for (let i = 0; i < slices; i++) {
      const order = i % 2 ? [3, 2, 1, 0] : [0, 1, 2, 3];
      const round: Slice[] = [];
      for (const k of order) round[k] = await slice([containerd.pid, relayPid, h2floor.child.pid], () => rate(contenders[k]!, sliceMs));
      rounds.push(round);
    }
    const ratioOf = (k: number): number => median(rounds.map((r) => r[k]!.perSecond / r[0]!.perSecond));
    const perSecond = (k: number): string => median(rounds.map((r) => r[k]!.perSecond)).toFixed(0);
    const cpu = (k: number, p: number): string => median(rounds.map((r) => r[k]!.cpuUs[p]!)).toFixed(0);
    const [q1, q3] = quartiles(rounds.map((r) => r[1]!.perSecond / r[0]!.perSecond));
    const h2 = ratioOf(3);
    line(
      `${label}, ${concurrency} concurrent callers: calls/s relay / direct`,
      `${ratioOf(1).toFixed(2)}x (IQR ${q1.toFixed(2)}-${q3.toFixed(2)}; ${perSecond(1)} vs ${perSecond(0)}/s)`,
      ">= 0.7x",
      ratioOf(1) >= 0.7,
      h2 < 0.7 ? ` (target below the HTTP/2 floor, ${h2.toFixed(2)}x)` : ` (HTTP/2 floor ${h2.toFixed(2)}x)`,
    );
    line("  floor: a bare Node socket pipe / direct", `${ratioOf(2).toFixed(2)}x (${perSecond(2)}/s)`, "", undefined);
    line("  floor: a minimal Node HTTP/2 relay / direct", `${h2.toFixed(2)}x (${perSecond(3)}/s)`, "", undefined);
    const busy = (k: number): string => `${(median(rounds.map((r) => r[k]!.machineBusy)) * 100).toFixed(0)}%`;
    line(
      "  CPU µs/call direct | relay | HTTP/2 floor: client, containerd, relay; machine busy",
      `${cpu(0, 0)} | ${cpu(1, 0)} | ${cpu(3, 0)}, ${cpu(0, 1)} | ${cpu(1, 1)} | ${cpu(3, 1)}, ${inProcess ? "(in the client)" : cpu(1, 2)} | ${cpu(3, 3)}; ${busy(0)} | ${busy(1)} | ${busy(3)}`,
      "",
      undefined,
    );
  }

  // 3. CreateContainer, one of each per round in alternating order, each container removed after (not timed)
  const created: string[] = [];
  let n = 0;
  const create = (client: CriClient) => async (): Promise<void> => {
    const config = containerConfig(`create-${++n}`, containerd.image, { envs: [{ key: "HOOKPLUGINS_MEMORY", value: "64m" }, { key: "A", value: "1" }] });
    created.push((await client.runtime<{ container_id: string }>("CreateContainer", { pod_sandbox_id: podId, config, sandbox_config: pod })).container_id);
  };
  const contenders = [create(direct), create(relay), create(relayPlain)];
  const creates = async (rounds: number): Promise<number[][]> => {
    const times: number[][] = contenders.map(() => []);
    for (let i = 0; i < rounds; i++) {
      const order = contenders.map((_, k) => k);
      if (i % 2) order.reverse();
      for (const k of order) {
        const t0 = performance.now();
        await contenders[k]!();
        times[k]!.push(performance.now() - t0);
      }
      for (const id of created.splice(0)) await direct.runtime("RemoveContainer", { container_id: id });
    }
    return times;
  };
  await creates(3); // warm-up
  const [cd, ch, cp] = await creates(createRounds);
  const diff = (xs: readonly number[], ys: readonly number[]): number[] => xs.map((x, i) => x - ys[i]!);
  const iqr = (xs: readonly number[]): string => quartiles(xs).map((q) => q.toFixed(1)).join(" to ");
  const hookedAdds = diff(ch!, cd!);
  const plainAdds = diff(cp!, cd!);
  const pluginsAdd = diff(ch!, cp!);
  line(`CreateContainer, envlimits + policy, ${createRounds} rounds: relay − direct`, `${median(hookedAdds).toFixed(1)} ms (IQR ${iqr(hookedAdds)}; medians ${median(ch!).toFixed(1)} vs ${median(cd!).toFixed(1)} ms)`, "", undefined);
  line("  the relay with no plugins − direct", `${median(plainAdds).toFixed(1)} ms (IQR ${iqr(plainAdds)}; median ${median(cp!).toFixed(1)} ms)`, "", undefined);
  line("  envlimits + policy − no plugins (the plugins' share)", `${median(pluginsAdd).toFixed(1)} ms (IQR ${iqr(pluginsAdd)})`, "", undefined);
} catch (error) {
  if (!interrupted) throw error; // calls cut by the interruption
} finally {
  await cleanup();
}
