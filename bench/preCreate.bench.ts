/**
 * npm run bench: host.container.preCreate against the physical limit and peers, in interleaved paired rounds.
 *
 * Each case measures its contenders in rounds; each round takes one sample of each (alternating order), and
 * every ratio is the median of the per-round ratios, with its interquartile range. BENCH_ROUNDS (default 41),
 * BENCH_SAMPLE_MS (default 10) and BENCH_CASES (comma-separated case ids) tune it.
 */
import { spawnSync } from "node:child_process";
import { tracingChannel } from "node:diagnostics_channel";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { allAtOnce, clockName, median, oneAtATime, pairedRatio, pairedRounds, ratioSpread, tight, type Contender, type Measured } from "./pairedRounds.js";
import { hostOf, makeFns, newConfig, peers } from "./contenders.js";

const rounds = Number(process.env["BENCH_ROUNDS"] ?? 41);
const sampleMs = Number(process.env["BENCH_SAMPLE_MS"] ?? 10);
const only = process.env["BENCH_CASES"]?.split(",");
const CONCURRENT = 10_000;

/** A ratio the bench reports, with an optional target (hookplugins / reference <= max). */
interface Check {
  readonly label: string;
  readonly a: string;
  readonly b: string;
  readonly max?: number;
  readonly min?: number;
}

/** One case: what it runs and which ratios it reports. */
interface Case {
  readonly id: string;
  readonly title: string;
  readonly contenders: () => Promise<Contender[]> | Contender[];
  readonly checks: readonly Check[];
  /** Samples this many times longer (a subscriber changes diagnostics_channel's objects: let it settle). */
  readonly longer?: number;
}

async function copyFunction(): Promise<((value: unknown) => unknown) | undefined> {
  try {
    const mod = (await import("../src/dispatch/copyData.js")) as { copyData?: (value: unknown) => unknown };
    return mod.copyData;
  } catch {
    return undefined;
  }
}

const cases: Case[] = [
  {
    id: "empty",
    title: "0 plugins, one call at a time",
    contenders: () => {
      const p = peers([], "async");
      return [
        { name: "hookplugins", run: oneAtATime(p.hookplugins) },
        { name: "Promise.resolve(value)", run: oneAtATime(() => Promise.resolve(newConfig())) },
        { name: "hookable", run: oneAtATime(p.hookable) },
      ];
    },
    checks: [
      { label: "empty hook point vs bare Promise.resolve(value)", a: "hookplugins", b: "Promise.resolve(value)", max: 2 },
      { label: "vs hookable's callHook", a: "hookplugins", b: "hookable" },
    ],
  },
  {
    id: "sync10",
    title: "10 sync plugins, one call at a time",
    contenders: () => {
      const p = peers(makeFns(10, "sync"), "sync");
      return [
        { name: "hookplugins", run: oneAtATime(p.hookplugins) },
        { name: "loop", run: oneAtATime(p.loop) },
        { name: "tapable", run: oneAtATime(p.tapable) },
        { name: "hookable", run: oneAtATime(p.hookable) },
      ];
    },
    checks: [
      { label: "vs the loop", a: "hookplugins", b: "loop" },
      { label: "vs tapable", a: "hookplugins", b: "tapable" },
      { label: "vs hookable", a: "hookplugins", b: "hookable" },
    ],
  },
  {
    id: "async10",
    title: "10 async plugins, one call at a time",
    contenders: () => {
      const p = peers(makeFns(10, "async"), "async");
      return [
        { name: "hookplugins", run: oneAtATime(p.hookplugins) },
        { name: "loop", run: oneAtATime(p.loop) },
        { name: "loop + a clock reading per await", run: oneAtATime(p.timedLoop) },
        { name: "tapable", run: oneAtATime(p.tapable) },
        { name: "hookable", run: oneAtATime(p.hookable) },
      ];
    },
    checks: [
      { label: "vs the loop", a: "hookplugins", b: "loop", max: 1.2 },
      { label: "the loop + a clock reading per await vs the loop (the floor with time limits)", a: "loop + a clock reading per await", b: "loop" },
      { label: "vs the loop + a clock reading per await", a: "hookplugins", b: "loop + a clock reading per await" },
      { label: "vs tapable", a: "hookplugins", b: "tapable" },
      { label: "vs hookable", a: "hookplugins", b: "hookable" },
    ],
  },
  {
    id: "concurrent",
    title: `10 async plugins, ${CONCURRENT.toLocaleString("en")} concurrent calls`,
    contenders: () => {
      const p = peers(makeFns(10, "async"), "async");
      return [
        { name: "hookplugins", run: allAtOnce(p.hookplugins), batch: CONCURRENT },
        { name: "loop", run: allAtOnce(p.loop), batch: CONCURRENT },
        { name: "tapable", run: allAtOnce(p.tapable), batch: CONCURRENT },
        { name: "hookable", run: allAtOnce(p.hookable), batch: CONCURRENT },
      ];
    },
    checks: [
      { label: "vs the loop", a: "hookplugins", b: "loop", max: 2 },
      { label: "vs tapable", a: "hookplugins", b: "tapable" },
      { label: "vs hookable", a: "hookplugins", b: "hookable" },
    ],
  },
  {
    id: "tracing",
    title: "10 async plugins, one call at a time, with tracing on",
    contenders: () => {
      const fns = makeFns(10, "async");
      const plain = hostOf(fns);
      const listened = hostOf(fns);
      listened.events.on("hookEnd", () => {});
      return [
        { name: "off", run: oneAtATime(() => plain.container.preCreate(newConfig())) },
        { name: "hookEnd listener", run: oneAtATime(() => listened.container.preCreate(newConfig())) },
      ];
    },
    checks: [{ label: "one hookEnd listener vs none", a: "hookEnd listener", b: "off", max: 1.5 }],
  },
  {
    // Subscribing flips diagnostics_channel's objects to other classes, which deoptimises what touched them: a
    // subscriber that comes and goes every sample is not what an APM does. So this case runs in child processes
    // that run only it, alternately subscribed from their start and not, each paired against the loop; the cost
    // of the subscriber is the median over pairs of children of the ratio of their two paired ratios. (Compared
    // with this process, which ran the other cases first, a fresh child's JIT state would bias the figure.)
    id: "channel",
    title: "10 async plugins, one call at a time, a TracingChannel subscriber",
    contenders: () => {
      const p = peers(makeFns(10, "async"), "async");
      return [
        { name: process.env["BENCH_SUBSCRIBED"] === "1" ? "subscribed" : "hookplugins", run: oneAtATime(p.hookplugins) },
        { name: "loop", run: oneAtATime(p.loop) },
      ];
    },
    checks: [{ label: "vs the loop", a: "hookplugins", b: "loop" }],
  },
  {
    id: "failopen",
    title: "one sync plugin that succeeds, fail-open vs fail-closed; the copy vs structuredClone",
    contenders: async () => {
      const fns = makeFns(1, "sync");
      const closed = hostOf(fns);
      const open = hostOf(fns, { failPolicy: "fail-open" });
      const copy = await copyFunction();
      const config = newConfig();
      const list: Contender[] = [
        { name: "fail-closed", run: oneAtATime(() => closed.container.preCreate(newConfig())) },
        { name: "fail-open", run: oneAtATime(() => open.container.preCreate(newConfig())) },
        { name: "structuredClone(config)", run: tight(() => structuredClone(config)) },
      ];
      if (copy) list.push({ name: "copyData(config)", run: tight(() => copy(config)) });
      return list;
    },
    checks: [
      { label: "fail-open plugin vs fail-closed", a: "fail-open", b: "fail-closed" },
      { label: "the fail-open copy vs structuredClone", a: "copyData(config)", b: "structuredClone(config)", max: 1 / 3 },
    ],
  },
];

const fmt = (ns: number): string => (ns >= 10_000 ? `${(ns / 1000).toFixed(1)} µs` : ns >= 100 ? `${Math.round(ns)} ns` : `${ns.toFixed(1)} ns`);

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
function subscriberCost(): { cost: number; subscribed: number; none: number } | undefined {
  const pairs = Number(process.env["BENCH_CHILD_PAIRS"] ?? 3);
  const subscribed: number[] = [];
  const none: number[] = [];
  for (let i = 0; i < pairs; i++) {
    // alternate which of the pair runs first
    const first = i % 2 === 0;
    const x = childRatio(first);
    const y = childRatio(!first);
    const [s, n] = first ? [x, y] : [y, x];
    if (s === undefined || n === undefined) return undefined;
    subscribed.push(s);
    none.push(n);
  }
  return { cost: median(subscribed.map((s, i) => s / none[i]!)), subscribed: median(subscribed), none: median(none) };
}

async function main(): Promise<void> {
  if (process.env["BENCH_SUBSCRIBED"] === "1") {
    const noop = (): void => {};
    tracingChannel("hookplugins:hook").subscribe({ start: noop, end: noop, asyncStart: noop, asyncEnd: noop, error: noop });
  }
  const results: { c: Case; m: Measured }[] = [];
  for (const c of cases) {
    if (only && !only.includes(c.id)) continue;
    const contenders = await c.contenders();
    results.push({ c, m: await pairedRounds(contenders, { rounds, sampleMs: sampleMs * (c.longer ?? 1) }) });
    process.stderr.write(".");
  }
  process.stderr.write("\n");
  if (process.env["BENCH_JSON"]) {
    const { m } = results.find((r) => r.c.id === "channel")!;
    const name = process.env["BENCH_SUBSCRIBED"] === "1" ? "subscribed" : "hookplugins";
    console.log(JSON.stringify({ ratio: pairedRatio(m, name, "loop") }));
    return;
  }
  const channel = results.find((r) => r.c.id === "channel");
  const subscriber = channel ? subscriberCost() : undefined;

  console.log(`host.container.preCreate; ${rounds} interleaved rounds of ~${sampleMs} ms samples timed by ${clockName}; default host options (10 s timeouts on)`);
  console.log(`machine: ${os.cpus()[0]?.model ?? "unknown CPU"}, ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(1)}, Node ${process.version}, ${os.platform()} ${os.arch()}\n`);
  console.log("| case | contender | time per call (median) |");
  console.log("|---|---|---:|");
  for (const { c, m } of results) {
    for (const [name, ns] of Object.entries(m.ns)) console.log(`| ${c.title} | ${name} | ${fmt(ns)} |`);
  }
  console.log("\n| case | ratio | median of paired rounds | IQR | target | |");
  console.log("|---|---|---:|---|---:|---|");
  for (const { c, m } of results) {
    for (const check of c.checks) {
      if (!m.samples[check.a] || !m.samples[check.b]) continue;
      const r = pairedRatio(m, check.a, check.b);
      const [lo, hi] = ratioSpread(m, check.a, check.b);
      const target = check.max === undefined ? "" : `<= ${check.max < 1 ? check.max.toFixed(2) : check.max}x`;
      const verdict = check.max === undefined ? "" : r <= check.max ? "met" : "MISSED";
      console.log(`| ${c.title} | ${check.label} | ${r.toFixed(2)}x | ${lo.toFixed(2)}–${hi.toFixed(2)} | ${target} | ${verdict} |`);
    }
  }
  if (channel && subscriber !== undefined) {
    const { cost, subscribed, none } = subscriber;
    console.log(`| ${channel.c.title} | subscribed vs none (children running only this case; paired ratios to the loop: subscribed ${subscribed.toFixed(2)}x, none ${none.toFixed(2)}x) | ${cost.toFixed(2)}x | | <= 1.5x | ${cost <= 1.5 ? "met" : "MISSED"} |`);
  }
}

await main();
