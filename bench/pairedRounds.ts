/**
 * Interleaved paired rounds: every round takes one sample of each contender, in alternating order
 * (A B C, then C B A, ...), so that a slow patch of a busy machine hits every contender of that round alike.
 * A contender's figure is the median of its samples; a ratio is the median of the per-round ratios.
 */

/** Runs `n` operations of one contender; resolves when all of them are done. */
export type Sampler = (n: number) => Promise<void> | void;

/** One contender of a case. */
export interface Contender {
  /** Its name in the table. */
  readonly name: string;
  /** Runs n operations. */
  readonly run: Sampler;
  /** Fixed operations per sample (e.g. 10,000 concurrent calls); calibrated when absent. */
  readonly batch?: number;
}

/** Settings of a measurement. */
export interface RoundOptions {
  /** Rounds (pairs) per case. */
  readonly rounds: number;
  /** Target duration of one sample in ms (calibration). */
  readonly sampleMs: number;
}

/** What one case measured. */
export interface Measured {
  /** Median ns per operation, by contender. */
  readonly ns: Record<string, number>;
  /** Per-round ns per operation, by contender. */
  readonly samples: Record<string, number[]>;
}

/**
 * The clock of a sample: this process's CPU time (user + system, in ms), not wall time. On a shared machine
 * wall time also counts the time other processes hold the cores; CPU time counts only the work done here
 * (including the garbage collector's threads, which is part of a contender's cost). BENCH_CLOCK=wall switches.
 */
const now: () => number =
  process.env["BENCH_CLOCK"] === "wall"
    ? () => performance.now()
    : () => {
        const { user, system } = process.cpuUsage();
        return (user + system) / 1000;
      };

/** Which clock samples are timed with. */
export const clockName = process.env["BENCH_CLOCK"] === "wall" ? "wall time" : "process CPU time";

async function timeOf(run: Sampler, n: number): Promise<number> {
  const t0 = now();
  await run(n);
  return now() - t0;
}

/** Median of a list. */
export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The median over rounds of a's time divided by b's time in the same round. */
export function pairedRatio(m: Measured, a: string, b: string): number {
  const xs = m.samples[a]!;
  const ys = m.samples[b]!;
  return median(xs.map((x, i) => x / ys[i]!));
}

/** The 25th and 75th percentile of the per-round ratios a/b (how steady the ratio is). */
export function ratioSpread(m: Measured, a: string, b: string): [number, number] {
  const ys = m.samples[b]!;
  const rs = m.samples[a]!.map((x, i) => x / ys[i]!).sort((p, q) => p - q);
  return [rs[Math.floor((rs.length - 1) / 4)]!, rs[Math.ceil(((rs.length - 1) * 3) / 4)]!];
}

async function calibrate(contender: Contender, sampleMs: number): Promise<number> {
  if (contender.batch) return contender.batch;
  let n = 64;
  for (;;) {
    const ms = await timeOf(contender.run, n);
    if (ms >= sampleMs / 4 || n >= 1 << 24) return Math.max(1, Math.round((n * sampleMs) / Math.max(ms, 0.001)));
    n *= 4;
  }
}

/** Measures the contenders in interleaved rounds; every contender also runs one warm-up sample first. */
export async function pairedRounds(contenders: readonly Contender[], options: RoundOptions): Promise<Measured> {
  const batches: number[] = [];
  for (const c of contenders) batches.push(await calibrate(c, options.sampleMs));
  for (let i = 0; i < contenders.length; i++) await timeOf(contenders[i]!.run, batches[i]!);
  const samples: Record<string, number[]> = Object.fromEntries(contenders.map((c) => [c.name, []]));
  for (let round = 0; round < options.rounds; round++) {
    const order = contenders.map((_, i) => i);
    if (round % 2) order.reverse();
    for (const i of order) {
      const c = contenders[i]!;
      const ms = await timeOf(c.run, batches[i]!);
      samples[c.name]!.push((ms * 1e6) / batches[i]!);
    }
  }
  return { samples, ns: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)])) };
}

/** Sequential calls: the next call starts when the previous one has settled, as one request at a time. */
export function oneAtATime(call: () => unknown): Sampler {
  return async (n) => {
    for (let i = 0; i < n; i++) await call();
  };
}

/** `n` calls started at once, then awaited together (n is the batch, e.g. 10,000). */
export function allAtOnce(call: () => unknown): Sampler {
  return async (n) => {
    const pending: unknown[] = new Array<unknown>(n);
    for (let i = 0; i < n; i++) pending[i] = call();
    await Promise.all(pending);
  };
}

/** Synchronous operations in a tight loop (for comparing copies). */
export function tight(op: () => unknown): Sampler {
  return (n) => {
    let sink: unknown;
    for (let i = 0; i < n; i++) sink = op();
    if (sink === tight) throw new Error("unreachable");
  };
}
