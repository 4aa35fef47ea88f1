/**
 * npm run bench: host.container.preCreate against peers doing the same work, in one run.
 *
 * Peers call the very same plugin functions: (a) a hand-written `for` loop awaiting each one,
 * (b) raw tapable AsyncSeriesWaterfallHook (`tap` for sync functions, `tapPromise` for async ones),
 * (c) hookable's callHook. hookplugins runs with default host options (10 s timeouts on).
 */
import os from "node:os";
import { createHooks } from "hookable";
import { AsyncSeriesWaterfallHook } from "tapable";
import { Bench } from "tinybench";
import { createHost, createRegistry, type ContainerCreateConfig, type HookContext } from "hookplugins";

type PluginFn = (ctx: HookContext, config: ContainerCreateConfig) => void | Promise<void>;

const sizes = (process.env["BENCH_SIZES"] ?? "0,1,10,100").split(",").map(Number);
const allKinds = ["sync", "async"] as const;
const kinds = allKinds.filter((k) => (process.env["BENCH_KINDS"] ?? "sync,async").split(",").includes(k));
const rounds = Number(process.env["BENCH_ROUNDS"] ?? 3);
const timeMs = Number(process.env["BENCH_TIME_MS"] ?? 250);
const ctx: HookContext = { signal: new AbortController().signal, plugin: "bench", hook: "ContainerPlugin.preCreate" };

function makeFns(n: number, kind: (typeof allKinds)[number]): PluginFn[] {
  return Array.from({ length: n }, (_, i): PluginFn =>
    kind === "sync"
      ? (_ctx, config) => {
          config.WorkingDir = `/w${i}`;
        }
      : async (_ctx, config) => {
          config.WorkingDir = `/w${i}`;
        },
  );
}

const newConfig = (): ContainerCreateConfig => ({ Image: "busybox", Env: ["A=1"] });

function peers(fns: PluginFn[], kind: (typeof allKinds)[number]): Record<string, () => Promise<unknown>> {
  const registry = createRegistry();
  fns.forEach((fn, i) => registry.registerContainerPlugin({ name: `p${i}`, priority: 0, preCreate: fn }));
  const host = createHost({ registry });

  const tapable = new AsyncSeriesWaterfallHook<[ContainerCreateConfig]>(["config"]);
  fns.forEach((fn, i) => {
    // tapable's waterfall keeps the value when a tap returns undefined (its typings do not say so), which is
    // what a plugin that mutates in place returns: the same function is tapped with no extra wrapper work
    if (kind === "sync") tapable.tap(`p${i}`, (config) => fn(ctx, config) as unknown as ContainerCreateConfig);
    else tapable.tapPromise(`p${i}`, (config) => fn(ctx, config) as unknown as Promise<ContainerCreateConfig>);
  });

  const hookable = createHooks<{ preCreate: (config: ContainerCreateConfig) => void | Promise<void> }>();
  fns.forEach((fn) => hookable.hook("preCreate", (config) => fn(ctx, config)));

  return {
    hookplugins: () => host.container.preCreate(newConfig()),
    "for loop": async () => {
      const config = newConfig();
      for (const fn of fns) await fn(ctx, config);
      return config;
    },
    tapable: () => tapable.promise(newConfig()),
    hookable: async () => hookable.callHook("preCreate", newConfig()),
  };
}

interface Row {
  plugins: number;
  kind: string;
  ns: Record<string, number>;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const rows: Row[] = [];
  for (const kind of kinds) {
    for (const n of sizes) {
      const tasks = peers(makeFns(n, kind), kind);
      const samples: Record<string, number[]> = {};
      for (let round = 0; round < rounds; round++) {
        const bench = new Bench({ time: timeMs, warmupTime: 50 });
        const names = Object.keys(tasks);
        // rotate the order each round so no peer always runs first
        for (const name of [...names.slice(round % names.length), ...names.slice(0, round % names.length)]) {
          bench.add(name, tasks[name]!);
        }
        await bench.run();
        for (const task of bench.tasks) {
          const result = task.result as { latency?: { mean: number } } | undefined;
          if (!result?.latency) throw new Error(`benchmark task ${task.name} failed`);
          (samples[task.name] ??= []).push(result.latency.mean * 1e6);
        }
      }
      rows.push({ plugins: n, kind, ns: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)])) });
      process.stderr.write(".");
    }
  }
  process.stderr.write("\n");

  const fmt = (x: number): string => (x >= 10000 ? `${(x / 1000).toFixed(1)} µs` : `${Math.round(x)} ns`);
  const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;
  const lines = [
    "| plugins | methods | hookplugins | for loop | tapable | hookable | vs for loop | vs tapable | vs hookable |",
    "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ...rows.map(({ plugins, kind, ns }) =>
      `| ${plugins} | ${kind} | ${fmt(ns["hookplugins"]!)} | ${fmt(ns["for loop"]!)} | ${fmt(ns["tapable"]!)} | ${fmt(ns["hookable"]!)} | ${ratio(ns["hookplugins"]!, ns["for loop"]!)} | ${ratio(ns["hookplugins"]!, ns["tapable"]!)} | ${ratio(ns["hookplugins"]!, ns["hookable"]!)} |`,
    ),
  ];
  console.log(`host.container.preCreate, mean time per call (median of ${rounds} rounds of ${timeMs} ms), default host options (timeouts on)`);
  console.log(`machine: ${os.cpus()[0]?.model ?? "unknown CPU"}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.arch()}\n`);
  console.log(lines.join("\n"));

  const at = (n: number, kind: string): Row | undefined => rows.find((r) => r.plugins === n && r.kind === kind);
  const checks: [string, boolean][] = [];
  for (const kind of kinds) {
    const ten = at(10, kind)?.ns;
    if (ten) checks.push([`${kind}, 10 plugins: <= 1.5x the for loop`, ten["hookplugins"]! <= 1.5 * ten["for loop"]!]);
    if (ten) checks.push([`${kind}, 10 plugins: <= 1.2x raw tapable`, ten["hookplugins"]! <= 1.2 * ten["tapable"]!]);
    for (const n of sizes) {
      const { ns } = at(n, kind)!;
      if (n === 0) checks.push([`${kind}, 0 plugins: no slower than hookable's callHook on an empty hook`, ns["hookplugins"]! <= ns["hookable"]!]);
      else checks.push([`${kind}, ${n} plugins: faster than hookable`, ns["hookplugins"]! < ns["hookable"]!]);
    }
  }
  console.log("\ntargets:");
  for (const [label, ok] of checks) console.log(`  ${ok ? "met    " : "MISSED "} ${label}`);
}

await main();
