/**
 * npm run bench: host.container.preCreate of the built library against the physical limit, the floors of its
 * guarantees and its peers, in interleaved paired rounds.
 *
 * Each case measures its contenders in rounds; each round takes one sample of each (alternating order), and every
 * ratio is the median of the per-round ratios, with its interquartile range. Where a target is below what its
 * guarantee needs, the case also measures that floor (the loop plus exactly the work the guarantee needs) and the
 * verdict names it. BENCH_ROUNDS (default 41), BENCH_SAMPLE_MS (default 10) and BENCH_CASES (comma-separated case
 * ids) tune it; `npm run bench:profile` shows where the time of the async cases goes.
 */
import { spawnSync } from "node:child_process";
import { tracingChannel } from "node:diagnostics_channel";
import os from "node:os";
import { fileURLToPath } from "node:url";
import type { HookEndEvent } from "hookplugins";
import { allAtOnce, clockName, median, oneAtATime, pairedRatio, pairedRounds, ratioSpread, tight, type Contender, type Measured } from "./pairedRounds.js";
import {
  hostOf,
  loopOf,
  makeFns,
  makeObservers,
  makeProviders,
  newConfig,
  observerHostOf,
  observerLoopOf,
  observerTapableOf,
  peers,
  providerHostOf,
  providerLoopOf,
  providerTapableOf,
  timedLoopOf,
  withEventWork,
} from "./contenders.js";
// the engine's plain-data copy, which the package does not export (the built library runs the same code)
import { copyData } from "../src/dispatch/copyData.js";

const rounds = Number(process.env["BENCH_ROUNDS"] ?? 41);
const sampleMs = Number(process.env["BENCH_SAMPLE_MS"] ?? 10);
const only = process.env["BENCH_CASES"]?.split(",");
const CONCURRENT = 10_000;

/** A ratio the bench reports: a's time over b's, with an optional target and the floor it is judged against. */
interface Check {
  /** One short label. */
  readonly label: string;
  readonly a: string;
  readonly b: string;
  /** The target: a / b at most this. */
  readonly max?: number;
  /** The contender that does exactly what the guarantee needs (floor / b is the lowest a / b can be). */
  readonly floor?: string;
}

/** One case: what it runs and which ratios it reports. */
interface Case {
  readonly id: string;
  readonly contenders: () => Promise<Contender[]> | Contender[];
  readonly checks: readonly Check[];
}

const listener = (_event: HookEndEvent): void => {};

const cases: Case[] = [
  {
    id: "empty",
    contenders: () => {
      const p = peers(0, "async");
      return [
        { name: "hookplugins", run: oneAtATime(p.hookplugins) },
        { name: "Promise.resolve", run: oneAtATime(() => Promise.resolve(newConfig())) },
        { name: "hookable", run: oneAtATime(p.hookable) },
      ];
    },
    checks: [
      { label: "0 plugins / Promise.resolve(value)", a: "hookplugins", b: "Promise.resolve", max: 2 },
      { label: "0 plugins / hookable", a: "hookplugins", b: "hookable" },
    ],
  },
  {
    id: "sync10",
    contenders: () => {
      const p = peers(10, "sync");
      return [
        { name: "hookplugins", run: oneAtATime(p.hookplugins) },
        { name: "loop", run: oneAtATime(p.loop) },
        { name: "tapable", run: oneAtATime(p.tapable) },
        { name: "hookable", run: oneAtATime(p.hookable) },
      ];
    },
    checks: [
      { label: "10 sync / loop", a: "hookplugins", b: "loop" },
      { label: "10 sync / tapable", a: "hookplugins", b: "tapable" },
      { label: "10 sync / hookable", a: "hookplugins", b: "hookable" },
    ],
  },
  {
    id: "async10",
    contenders: () => {
      const p = peers(10, "async");
      return [
        { name: "hookplugins", run: oneAtATime(p.hookplugins) },
        { name: "loop", run: oneAtATime(p.loop) },
        { name: "floor", run: oneAtATime(p.floor) },
        { name: "tapable", run: oneAtATime(p.tapable) },
        { name: "hookable", run: oneAtATime(p.hookable) },
      ];
    },
    checks: [
      { label: "10 async / loop", a: "hookplugins", b: "loop", max: 1.35, floor: "floor" },
      { label: "  floor (loop + 11 clock readings) / loop", a: "floor", b: "loop" },
      { label: "  10 async / floor", a: "hookplugins", b: "floor" },
      { label: "10 async / tapable", a: "hookplugins", b: "tapable" },
      { label: "10 async / hookable", a: "hookplugins", b: "hookable" },
    ],
  },
  {
    id: "async1",
    contenders: () => {
      const host = hostOf(makeFns(1, "async"));
      return [
        { name: "hookplugins", run: oneAtATime(() => host.container.preCreate(newConfig())) },
        { name: "loop", run: oneAtATime(loopOf(makeFns(1, "async"))) },
        { name: "floor", run: oneAtATime(timedLoopOf(makeFns(1, "async"))) },
      ];
    },
    checks: [
      { label: "1 async / loop", a: "hookplugins", b: "loop", max: 1.6, floor: "floor" },
      { label: "  floor (loop + 2 clock readings) / loop", a: "floor", b: "loop" },
      { label: "  1 async / floor", a: "hookplugins", b: "floor" },
    ],
  },
  {
    id: "nolimit",
    contenders: () => {
      const host = hostOf(makeFns(10, "async"), {}, { timeoutMs: 0 });
      return [
        { name: "hookplugins", run: oneAtATime(() => host.container.preCreate(newConfig())) },
        { name: "loop", run: oneAtATime(loopOf(makeFns(10, "async"))) },
      ];
    },
    checks: [{ label: "10 async, timeoutMs 0 / loop", a: "hookplugins", b: "loop", max: 1.2 }],
  },
  {
    id: "concurrent",
    contenders: () => {
      const p = peers(10, "async");
      return [
        { name: "hookplugins", run: allAtOnce(p.hookplugins), batch: CONCURRENT },
        { name: "loop", run: allAtOnce(p.loop), batch: CONCURRENT },
        { name: "tapable", run: allAtOnce(p.tapable), batch: CONCURRENT },
        { name: "hookable", run: allAtOnce(p.hookable), batch: CONCURRENT },
      ];
    },
    checks: [
      { label: "10 async x 10,000 concurrent / loop", a: "hookplugins", b: "loop", max: 2 },
      { label: "10 async x 10,000 concurrent / tapable", a: "hookplugins", b: "tapable" },
      { label: "10 async x 10,000 concurrent / hookable", a: "hookplugins", b: "hookable" },
    ],
  },
  ...(["sync", "async"] as const).map(
    (kind): Case => ({
      id: `listener-${kind}`,
      contenders: () => {
        const plain = hostOf(makeFns(10, kind));
        const listened = hostOf(makeFns(10, kind));
        listened.events.on("hookEnd", listener);
        const call = (): Promise<unknown> => plain.container.preCreate(newConfig());
        // what durationMs needs beyond the host's own readings: sync plugins read nothing without a listener (11
        // readings: one per call boundary); async steps already read the clock at each call boundary for the limit
        const readings = kind === "sync" ? 11 : 0;
        return [
          { name: "listener", run: oneAtATime(() => listened.container.preCreate(newConfig())) },
          { name: "none", run: oneAtATime(call) },
          { name: "floor", run: oneAtATime(withEventWork(call, readings, 10, listener)) },
        ];
      },
      checks: [
        { label: `10 ${kind} + hookEnd listener / without`, a: "listener", b: "none", max: 1.5, floor: "floor" },
        { label: `  floor (without + ${kind === "sync" ? "11 clock readings + " : ""}10 events) / without`, a: "floor", b: "none" },
      ],
    }),
  ),
  // the observe (postStart) and bail (resolveImage) dispatch kinds: no plugin, then 10 sync and 10 async against the loop
  {
    id: "observe-empty",
    contenders: () => {
      const host = observerHostOf([]);
      return [
        { name: "hookplugins", run: oneAtATime(() => host.container.postStart({ Id: "c1", seen: 0 })) },
        { name: "Promise.resolve", run: oneAtATime(() => Promise.resolve({ failures: [] })) },
      ];
    },
    checks: [{ label: "observe, 0 plugins / Promise.resolve(value)", a: "hookplugins", b: "Promise.resolve" }],
  },
  ...(["sync", "async"] as const).map(
    (kind): Case => ({
      id: `observe-${kind}10`,
      contenders: () => {
        const host = observerHostOf(makeObservers(10, kind));
        return [
          { name: "hookplugins", run: oneAtATime(() => host.container.postStart({ Id: "c1", seen: 0 })) },
          { name: "loop", run: oneAtATime(observerLoopOf(makeObservers(10, kind))) },
          { name: "tapable", run: oneAtATime(observerTapableOf(makeObservers(10, kind), kind)) },
        ];
      },
      checks: [
        { label: `observe, 10 ${kind} / loop`, a: "hookplugins", b: "loop" },
        { label: `observe, 10 ${kind} / tapable AsyncSeriesHook`, a: "hookplugins", b: "tapable" },
      ],
    }),
  ),
  {
    id: "bail-empty",
    contenders: () => {
      const host = providerHostOf([]);
      return [
        { name: "hookplugins", run: oneAtATime(() => host.image.resolveImage("dir:/images/app")) },
        { name: "Promise.resolve", run: oneAtATime(() => Promise.resolve(undefined)) },
      ];
    },
    checks: [{ label: "bail, 0 plugins / Promise.resolve(value)", a: "hookplugins", b: "Promise.resolve" }],
  },
  ...(["sync", "async"] as const).map(
    (kind): Case => ({
      id: `bail-${kind}10`,
      contenders: () => {
        const host = providerHostOf(makeProviders(10, kind));
        const loop = providerLoopOf(makeProviders(10, kind));
        const tapable = providerTapableOf(makeProviders(10, kind), kind);
        return [
          { name: "hookplugins", run: oneAtATime(() => host.image.resolveImage("dir:/images/app")) },
          { name: "loop", run: oneAtATime(() => loop("dir:/images/app")) },
          { name: "tapable", run: oneAtATime(() => tapable("dir:/images/app")) },
        ];
      },
      checks: [
        { label: `bail, 10 ${kind} (the last answers) / loop`, a: "hookplugins", b: "loop" },
        { label: `bail, 10 ${kind} (the last answers) / tapable AsyncSeriesBailHook`, a: "hookplugins", b: "tapable" },
      ],
    }),
  ),
  {
    // Subscribing flips diagnostics_channel's objects to other classes, which deoptimises what touched them: a
    // subscriber that comes and goes every sample is not what an APM does. So this case runs in child processes
    // that run only it, alternately subscribed from their start and not, each paired against the loop; the cost
    // of the subscriber is the median over pairs of children of the ratio of their two paired ratios.
    id: "channel",
    contenders: () => {
      const p = peers(10, "async");
      return [
        { name: process.env["BENCH_SUBSCRIBED"] === "1" ? "subscribed" : "hookplugins", run: oneAtATime(p.hookplugins) },
        { name: "loop", run: oneAtATime(p.loop) },
      ];
    },
    checks: [],
  },
  {
    id: "failopen",
    contenders: () => {
      const closed = hostOf(makeFns(1, "sync"));
      const open = hostOf(makeFns(1, "sync"), { failPolicy: "fail-open" });
      const config = newConfig();
      return [
        { name: "fail-closed", run: oneAtATime(() => closed.container.preCreate(newConfig())) },
        { name: "fail-open", run: oneAtATime(() => open.container.preCreate(newConfig())) },
        { name: "structuredClone", run: tight(() => structuredClone(config)) },
        { name: "copyData", run: tight(() => copyData(config)) },
      ];
    },
    checks: [
      { label: "1 sync fail-open / fail-closed", a: "fail-open", b: "fail-closed" },
      { label: "fail-open copy / structuredClone", a: "copyData", b: "structuredClone", max: 1 / 3 },
    ],
  },
];

const fmtNs = (ns: number): string => (ns >= 10_000 ? `${(ns / 1000).toFixed(1)} µs` : `${Math.round(ns)} ns`);
const fmtX = (x: number): string => `${x.toFixed(2)}x`;

/** Runs the channel case alone in a child process, subscribed from its start or not; returns its paired ratio to the loop. */
function childRatio(subscribed: boolean): number | undefined {
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
    env: { ...process.env, BENCH_CASES: "channel", BENCH_SUBSCRIBED: subscribed ? "1" : "0", BENCH_JSON: "1" },
    encoding: "utf8",
  });
  const line = child.stdout.split("\n").find((l) => l.startsWith("{"));
  return line ? (JSON.parse(line) as { ratio: number }).ratio : undefined;
}

/** The subscriber's cost: per pair of children (BENCH_CHILD_PAIRS, default 3), subscribed ratio / unsubscribed ratio. */
function subscriberCost(): { cost: number; spread: [number, number] } | undefined {
  const pairs = Number(process.env["BENCH_CHILD_PAIRS"] ?? 3);
  const costs: number[] = [];
  for (let i = 0; i < pairs; i++) {
    // alternate which of the pair runs first
    const first = i % 2 === 0;
    const x = childRatio(first);
    const y = childRatio(!first);
    const [s, n] = first ? [x, y] : [y, x];
    if (s === undefined || n === undefined) return undefined;
    costs.push(s / n);
  }
  const sorted = [...costs].sort((a, b) => a - b);
  return { cost: median(costs), spread: [sorted[0]!, sorted.at(-1)!] };
}

/** One line of the table. */
function row(label: string, ratio: number, spread: string, target: string, verdict: string): string {
  return `${label.padEnd(46)} ${fmtX(ratio).padStart(7)}  ${spread.padEnd(11)} ${target.padEnd(8)} ${verdict}`;
}

function report(c: Case, m: Measured): string[] {
  const lines: string[] = [];
  for (const check of c.checks) {
    if (!m.samples[check.a] || !m.samples[check.b]) continue;
    const r = pairedRatio(m, check.a, check.b);
    const [lo, hi] = ratioSpread(m, check.a, check.b);
    let target = "";
    let verdict = "";
    if (check.max !== undefined) {
      target = `<= ${check.max < 1 ? check.max.toFixed(2) : check.max}x`;
      verdict = r <= check.max ? "met" : "MISSED";
      if (check.floor && m.samples[check.floor]) {
        const floor = pairedRatio(m, check.floor, check.b);
        if (r > check.max) verdict += floor > check.max ? ` (target below the floor, ${fmtX(floor)})` : ` (floor ${fmtX(floor)})`;
      }
    }
    lines.push(row(check.label, r, `${lo.toFixed(2)}–${hi.toFixed(2)}`, target, verdict));
  }
  return lines;
}

async function main(): Promise<void> {
  if (process.env["BENCH_SUBSCRIBED"] === "1") {
    const noop = (): void => {};
    tracingChannel("hookplugins:hook").subscribe({ start: noop, end: noop, asyncStart: noop, asyncEnd: noop, error: noop });
  }
  const selected = cases.filter((c) => (only ? only.includes(c.id) : true));
  if (process.env["BENCH_JSON"]) {
    const c = selected[0]!;
    const m = await pairedRounds(await c.contenders(), { rounds, sampleMs });
    console.log(JSON.stringify({ ratio: pairedRatio(m, process.env["BENCH_SUBSCRIBED"] === "1" ? "subscribed" : "hookplugins", "loop") }));
    return;
  }
  const cpu = os.cpus();
  console.log(`hookplugins bench, ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC: ${cpu[0]?.model ?? "unknown CPU"} (${cpu.length} cores), Node ${process.version}, load ${os.loadavg()[0]!.toFixed(1)}`);
  console.log(`host.container.preCreate of the built library (dist/), default host options (10 s time limits) unless said; ${rounds} interleaved rounds of ~${sampleMs} ms samples per case, timed by ${clockName}.`);
  console.log("ratio: the median over rounds of a's time / b's time in the same round; IQR: the middle half of those per-round ratios.");
  console.log(`floor: the loop plus exactly the work a guarantee needs; a target below it cannot be met without giving the guarantee up. One line per ratio as each case ends:\n`);
  console.log(`${"case".padEnd(46)} ${"ratio".padStart(7)}  ${"IQR".padEnd(11)} ${"target".padEnd(8)} verdict`);
  const times: string[] = [];
  for (const c of selected) {
    if (c.id === "channel") {
      const s = subscriberCost();
      if (s) console.log(row("10 async + TracingChannel subscriber / without", s.cost, `${s.spread[0].toFixed(2)}–${s.spread[1].toFixed(2)}`, "<= 1.5x", s.cost <= 1.5 ? "met" : "MISSED"));
      continue;
    }
    const m = await pairedRounds(await c.contenders(), { rounds, sampleMs });
    for (const line of report(c, m)) console.log(line);
    times.push(`${c.id}: ${Object.entries(m.ns).map(([name, ns]) => `${name} ${fmtNs(ns)}`).join(", ")}`);
  }
  console.log(`\nmedian time per call (per copy for the copies):\n${times.map((t) => `  ${t}`).join("\n")}`);
}

await main();
