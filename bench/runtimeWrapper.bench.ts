/**
 * npm run bench:runtime (as root, with runc, busybox, dockerd and the docker CLI): what the OCI runtime wrapper costs,
 * each case paired with the bare runtime in the same run, interleaved call by call (wall time of the whole process,
 * spawned the same way for both):
 * - `runc state <id>` on a real container and `runc --version`, 200 calls each: the sh script's one exec
 *   (target <= 1.1x the bare runtime), with its floor: the smallest sh wrapper there is, `exec runc "$@"`;
 * - `create` with the two shipped prestart plugins (prestart-early, prestart-late), and with none: the time the plugin
 *   step adds (node, the bundle, preStart, the config.json write);
 * - `docker run --rm --network none bb true` end to end through dockerd 20.10 with the wrapper and no plugins, against
 *   dockerd's own runc (target <= 1.2x), and with the two plugins for reference.
 * Prints one line per ratio (median of the per-pair ratios, its IQR, the target, met or missed), then the medians.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { installRuntimeWrapper } from "../src/runtime/install.js";
import { startDockerd, type Dockerd } from "../test/docker/dockerd.js";
import { median, quartiles } from "./pairedRounds.js";

const repoRoot = resolve(fileURLToPath(import.meta.url), "../..");
const calls = Number(process.env["BENCH_CALLS"] ?? 200);
const createRounds = Number(process.env["BENCH_CREATE_ROUNDS"] ?? 20);
const dockerRounds = Number(process.env["BENCH_DOCKER_ROUNDS"] ?? 15);
const runc = process.env["BENCH_RUNC"] ?? "/usr/sbin/runc";

/**
 * Wall time of one run of `file args` (ms); throws on a non-zero exit. No pipes: a created container's init holds
 * the stdio it was given until it starts, so a pipe would not close when runc exits.
 */
function timed(file: string, args: readonly string[]): number {
  const t0 = performance.now();
  const r = spawnSync(file, args, { stdio: "ignore" });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${file} ${args.join(" ")} exited ${r.status}`);
  return ms;
}

/** Runs the contenders in turn, the order reversed every other round, `n` rounds; returns each one's times. */
function interleaved(n: number, ...contenders: (() => number)[]): number[][] {
  const times = contenders.map((): number[] => []);
  for (let i = 0; i < n; i++) {
    const order = contenders.map((_, k) => k);
    if (i % 2) order.reverse();
    for (const k of order) times[k]!.push(contenders[k]!());
  }
  return times;
}

/** Prints one ratio line: label, median of per-pair ratios, IQR, target, verdict; and the medians. */
function report(label: string, xs: readonly number[], ys: readonly number[], target?: number): void {
  const ratios = xs.map((x, i) => x / ys[i]!);
  const r = median(ratios);
  const [q1, q3] = quartiles(ratios);
  const verdict = target === undefined ? "" : `, target <= ${target}x: ${r <= target ? "met" : "MISSED"}`;
  console.log(`${label}: ${r.toFixed(3)}x (IQR ${q1.toFixed(2)}-${q3.toFixed(2)})${verdict}; medians ${median(xs).toFixed(1)} ms vs ${median(ys).toFixed(1)} ms`);
}

/** A host project in `dir` with `plugins` (folders of this repo), no generated module. */
function project(dir: string, plugins: readonly string[]): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "hookplugins.json"), JSON.stringify({ plugins: plugins.map((p) => join(repoRoot, p)), generated: false }));
  return dir;
}

/** A busybox root filesystem (the image the tests use). */
function rootfs(dir: string): string {
  const busybox = spawnSync("sh", ["-c", "command -v busybox"]).stdout.toString().trim();
  for (const sub of ["bin", "proc", "sys", "dev", "etc", "tmp"]) mkdirSync(join(dir, sub), { recursive: true });
  cpSync(busybox, join(dir, "bin/busybox"));
  for (const applet of ["sh", "sleep", "true"]) spawnSync("ln", ["-s", "busybox", join(dir, "bin", applet)]);
  return dir;
}

/** An OCI bundle (runc spec, no terminal) running `args`. */
function bundle(dir: string, root: string, args: readonly string[]): string {
  mkdirSync(dir, { recursive: true });
  spawnSync(runc, ["spec", "--bundle", dir]);
  const spec = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as { process: { terminal: boolean; args: string[] }; root: { path: string } };
  spec.process.terminal = false;
  spec.process.args = [...args];
  spec.root.path = root;
  writeFileSync(join(dir, "config.json"), JSON.stringify(spec));
  return dir;
}

const dir = await mkdtemp(join(tmpdir(), "hprb-"));
let dockerd: Dockerd | undefined;
try {
  console.log(`runtime wrapper bench: ${new Date().toISOString()}, node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(" ")}`);
  const root = rootfs(join(dir, "rootfs"));
  const stateRoot = join(dir, "runc-state");
  const install = async (name: string, plugins: readonly string[]): Promise<string> =>
    (
      await installRuntimeWrapper({
        root: project(join(dir, name), plugins),
        runtime: runc,
        out: join(dir, "bin", name),
        stateFile: join(dir, name, ".hookplugins/state.json"),
        handoffDir: join(dir, "handoffs"),
      })
    ).config.wrapper;
  const none = await install("hp-none", []);
  const two = await install("hp-two", ["hookplugins/prestarthooks/early", "hookplugins/prestarthooks/late"]);

  // a real container for `state`
  const running = bundle(join(dir, "running"), root, ["sleep", "3600"]);
  timed(runc, ["--root", stateRoot, "create", "--bundle", running, "bench-running"]);
  timed(runc, ["--root", stateRoot, "start", "bench-running"]);

  // the floor: no wrapper can cost less than one sh that execs the runtime
  const floor = join(dir, "bin", "floor");
  writeFileSync(floor, `#!/bin/sh\nexec ${runc} "$@"\n`, { mode: 0o755 });
  const stateArgs = ["--root", stateRoot, "state", "bench-running"];
  const [ws, fs, bs] = interleaved(calls, () => timed(none, stateArgs), () => timed(floor, stateArgs), () => timed(runc, stateArgs));
  report(`runc state <id>, ${calls} calls: wrapper / runc`, ws!, bs!, 1.1);
  report("  floor (sh: exec runc) / runc", fs!, bs!);
  report("  wrapper / floor", ws!, fs!);
  const [wv, fv, bv] = interleaved(calls, () => timed(none, ["--version"]), () => timed(floor, ["--version"]), () => timed(runc, ["--version"]));
  report(`runc --version, ${calls} calls: wrapper / runc`, wv!, bv!, 1.1);
  report("  floor (sh: exec runc) / runc", fv!, bv!);
  report("  wrapper / floor", wv!, fv!);
  timed(runc, ["--root", stateRoot, "delete", "--force", "bench-running"]);

  // create: a fresh config.json each time (the plugins' hooks are written into it), deleted right after
  const template = readFileSync(join(bundle(join(dir, "template"), root, ["true"]), "config.json"), "utf8");
  let n = 0;
  const create = (runtime: string, spec = template): number => {
    const b = join(dir, "bundles", `c${++n}`);
    mkdirSync(b, { recursive: true });
    writeFileSync(join(b, "config.json"), spec);
    const ms = timed(runtime, ["--root", stateRoot, "--log", join(b, "log.json"), "--log-format", "json", "create", "--bundle", b, `bench-${n}`]);
    timed(runc, ["--root", stateRoot, "delete", "--force", `bench-${n}`]);
    rmSync(b, { recursive: true, force: true });
    return ms;
  };
  // the spec as the wrapper leaves it, for runc alone: the same two hooks run on both sides
  const merged = join(dir, "merged");
  mkdirSync(merged);
  writeFileSync(join(merged, "config.json"), template);
  timed(two, ["--root", stateRoot, "create", "--bundle", merged, "bench-merged"]);
  timed(runc, ["--root", stateRoot, "delete", "--force", "bench-merged"]);
  const withHooks = readFileSync(join(merged, "config.json"), "utf8");
  const [c2, cb] = interleaved(createRounds, () => create(two), () => create(runc));
  report(`create, two plugins, ${createRounds} pairs: wrapper / runc without the hooks`, c2!, cb!);
  console.log(`  a create with the two plugins takes ${(median(c2!) - median(cb!)).toFixed(1)} ms longer: the plugin step and the two hooks runc runs`);
  const [c2h, cbh] = interleaved(createRounds, () => create(two), () => create(runc, withHooks));
  report(`create, two plugins, ${createRounds} pairs: wrapper / runc given the same hooks`, c2h!, cbh!);
  console.log(`  the plugin step itself (node, the bundle, preStart, the config.json write) adds ${(median(c2h!) - median(cbh!)).toFixed(1)} ms`);
  const [c0, cb0] = interleaved(createRounds, () => create(none), () => create(runc));
  report(`create, no plugins and no hand-off, ${createRounds} pairs: wrapper / runc`, c0!, cb0!);

  // docker run --rm end to end
  dockerd = await startDockerd({ config: { runtimes: { "hp-none": { path: none }, "hp-two": { path: two } } } });
  const d = dockerd;
  const dockerRun = (runtime: string[]): number => {
    const t0 = performance.now();
    const env = { ...process.env, DOCKER_HOST: `unix://${d.socketPath}`, DOCKER_CONFIG: join(d.dir, "cli") };
    const r = spawnSync("docker", ["run", "--rm", ...runtime, "--network", "none", "bb", "true"], { env, stdio: ["ignore", "ignore", "pipe"] });
    if (r.status !== 0) throw new Error(`docker run exited ${r.status}: ${r.stderr.toString()}`);
    return performance.now() - t0;
  };
  for (let i = 0; i < 3; i++) [[], ["--runtime", "hp-none"], ["--runtime", "hp-two"]].forEach((r) => dockerRun(r)); // warm-up
  const [dn, db, d2] = interleaved(dockerRounds, () => dockerRun(["--runtime", "hp-none"]), () => dockerRun([]), () => dockerRun(["--runtime", "hp-two"]));
  report(`docker run --rm, no plugins (no node), ${dockerRounds} rounds: wrapper / runc`, dn!, db!, 1.2);
  report(`docker run --rm, two plugins, ${dockerRounds} rounds: wrapper / runc`, d2!, db!);
} finally {
  await dockerd?.stop();
  spawnSync(runc, ["--root", join(dir, "runc-state"), "delete", "--force", "bench-running"]);
  rmSync(dir, { recursive: true, force: true });
}
