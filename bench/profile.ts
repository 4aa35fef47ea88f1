/**
 * npm run bench:profile: where the time of an async host call goes, beside the loop and the floor of the time-limit
 * guarantee (the loop plus one clock reading per call boundary). Each contender runs alone for BENCH_PROFILE_MS
 * (default 1500) under V8's sampling profiler (node:inspector, started after a warm-up), and its samples are split
 * into: the plugins and the caller's loop (bench code), the clock (performance.now and its brand check), the engine
 * (dist/index.js, by function), V8's runtime (promise jobs, microtasks: "(program)"), the garbage collector, and the
 * rest of Node. Figures are ns of CPU time per host call and their share of the contender's total. The contenders run
 * one after the other, not paired, and the profiler slows each down: compare shares, and take ratios from `npm run
 * bench`.
 */
import { Session } from "node:inspector/promises";
import os from "node:os";
import { hostOf, loopOf, makeFns, newConfig, timedLoopOf } from "./contenders.js";

const profileMs = Number(process.env["BENCH_PROFILE_MS"] ?? 1500);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
}

/** Which part of the work a sample is in. */
function category(frame: ProfileNode["callFrame"]): string {
  const { functionName: fn, url } = frame;
  if (fn === "(garbage collector)") return "garbage collector";
  if (fn === "(program)") return "V8 runtime (promise jobs, microtasks)";
  if (fn === "(idle)" || fn === "(root)") return "";
  if (url.endsWith("/dist/index.js")) return `engine: ${fn || "(anonymous)"}`;
  if (fn === "now" || url.includes("internal/perf/") || url.includes("internal/validators") || (url.includes("internal/errors") && fn === "wrappedFn")) return "clock (performance.now)";
  // the plugins are compiled per contender with new Function (bench/contenders.ts): scripts without a URL
  if (url.includes("/bench/") || (url === "" && frame.lineNumber >= 0)) return "plugins and the caller's loop";
  return "other Node internals";
}

async function profile(call: () => Promise<unknown>): Promise<{ perCall: number; parts: Map<string, number> }> {
  // warm-up: let the JIT settle
  for (const end = performance.now() + 300; performance.now() < end; ) for (let i = 0; i < 200; i++) await call();
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 100 });
  await session.post("Profiler.start");
  let calls = 0;
  const started = process.cpuUsage();
  for (const end = performance.now() + profileMs; performance.now() < end; ) {
    for (let i = 0; i < 200; i++) await call();
    calls += 200;
  }
  const used = process.cpuUsage(started);
  const { profile: p } = (await session.post("Profiler.stop")) as { profile: Profile };
  session.disconnect();
  const cpuNs = ((used.user + used.system) * 1000) / calls;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const counts = new Map<string, number>();
  let total = 0;
  for (const id of p.samples) {
    const part = category(byId.get(id)!.callFrame);
    if (part === "") continue;
    counts.set(part, (counts.get(part) ?? 0) + 1);
    total++;
  }
  return { perCall: cpuNs, parts: new Map([...counts].map(([k, v]) => [k, (v / total) * cpuNs])) };
}

const fmt = (ns: number, total: number): string => `${Math.round(ns)} (${Math.round((100 * ns) / total)}%)`;

async function compare(n: number): Promise<void> {
  const host = hostOf(makeFns(n, "async"));
  const contenders: [string, () => Promise<unknown>][] = [
    ["hookplugins", () => host.container.preCreate(newConfig())],
    ["floor", timedLoopOf(makeFns(n, "async"))],
    ["loop", loopOf(makeFns(n, "async"))],
  ];
  const results: { name: string; perCall: number; parts: Map<string, number> }[] = [];
  for (const [name, call] of contenders) results.push({ name, ...(await profile(call)) });
  const parts = [...new Set(results.flatMap((r) => [...r.parts.keys()]))].sort((a, b) => {
    const engine = (s: string): number => (s.startsWith("engine:") ? 1 : 0);
    return engine(a) - engine(b) || (results[0]!.parts.get(b) ?? 0) - (results[0]!.parts.get(a) ?? 0);
  });
  console.log(`\n${n} async plugin${n === 1 ? "" : "s"}: ns of CPU time per host call`);
  console.log(`${"".padEnd(44)}${results.map((r) => r.name.padStart(12)).join("")}`);
  console.log(`${"total".padEnd(44)}${results.map((r) => `${Math.round(r.perCall)}`.padStart(12)).join("")}`);
  for (const part of parts) {
    const cells = results.map((r) => (r.parts.has(part) ? fmt(r.parts.get(part)!, r.perCall) : "-").padStart(12));
    if (part.startsWith("engine:") && (results[0]!.parts.get(part) ?? 0) < results[0]!.perCall * 0.01) continue;
    console.log(`${part.padEnd(44)}${cells.join("")}`);
  }
}

const cpu = os.cpus();
console.log(`hookplugins bench:profile: ${cpu[0]?.model ?? "unknown CPU"} (${cpu.length} cores), Node ${process.version}, load ${os.loadavg()[0]!.toFixed(1)}; ${profileMs} ms per contender`);
console.log("Sampled self time split by where it was spent, ns per call (share); engine functions under 1% of the call are left out.");
console.log("The contenders run one after the other under the profiler: compare shares; the paired ratios are `npm run bench`'s.");
await compare(10);
await compare(1);
