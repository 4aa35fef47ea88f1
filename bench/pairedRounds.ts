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
  /** Operations that must run together (e.g. 10,000 concurrent calls): the chunk; calibrated when absent. */
  readonly batch?: number;
}

/** Settings of a measurement. */
export interface RoundOptions {
  /** Rounds (pairs) per case. */
  readonly rounds: number;
  /** Duration of one sample in ms (it runs whole chunks until this much time has passed). */
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

/** The 25th and 75th percentile of a list (its interquartile range). */
export function quartiles(xs: readonly number[]): [number, number] {
  const sorted = [...xs].sort((a, b) => a - b);
  return [sorted[Math.floor((sorted.length - 1) / 4)]!, sorted[Math.ceil(((sorted.length - 1) * 3) / 4)]!];
}

/** The 25th and 75th percentile of the per-round ratios a/b (how steady the ratio is). */
export function ratioSpread(m: Measured, a: string, b: string): [number, number] {
  const ys = m.samples[b]!;
  return quartiles(m.samples[a]!.map((x, i) => x / ys[i]!));
}

/** Runs `contender` for about `ms` (whole chunks); returns [operations, elapsed ms]. */
async function timeBoxed(contender: Contender, chunk: number, ms: number): Promise<[number, number]> {
  const t0 = now();
  let n = 0;
  let elapsed = 0;
  do {
    await contender.run(chunk);
    n += chunk;
    elapsed = now() - t0;
  } while (elapsed < ms);
  return [n, elapsed];
}

/** Operations per chunk: about a tenth of a sample, measured once the contender is warm. */
async function chunkOf(contender: Contender, sampleMs: number): Promise<number> {
  if (contender.batch) return contender.batch;
  let n = 16;
  for (;;) {
    const ms = await timeOf(contender.run, n);
    if (ms >= sampleMs / 10 || n >= 1 << 24) return Math.max(1, Math.round((n * sampleMs) / 10 / Math.max(ms, 0.001)));
    n *= 2;
  }
}

/** How long each contender runs before anything is measured, so that the JIT has settled (BENCH_WARMUP_MS). */
const warmupMs = Number(process.env["BENCH_WARMUP_MS"] ?? 300);

/**
 * Measures the contenders in interleaved rounds. Each contender first runs for warmupMs (round robin, in slices);
 * then every sample runs whole chunks until sampleMs have passed, so a sample's length does not depend on how fast
 * the contender was before the JIT optimised it.
 */
export async function pairedRounds(contenders: readonly Contender[], options: RoundOptions): Promise<Measured> {
  const slices = 6;
  for (let i = 0; i < slices; i++) for (const c of contenders) await timeBoxed(c, c.batch ?? 16, warmupMs / slices);
  const chunks: number[] = [];
  for (const c of contenders) chunks.push(await chunkOf(c, options.sampleMs));
  const samples: Record<string, number[]> = Object.fromEntries(contenders.map((c) => [c.name, []]));
  for (let round = 0; round < options.rounds; round++) {
    const order = contenders.map((_, i) => i);
    if (round % 2) order.reverse();
    for (const i of order) {
      const c = contenders[i]!;
      const [n, ms] = await timeBoxed(c, chunks[i]!, options.sampleMs);
      samples[c.name]!.push((ms * 1e6) / n);
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
