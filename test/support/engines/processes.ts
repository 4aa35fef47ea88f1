/**
 * What every engine harness (test/docker/dockerd.ts, test/support/engines/*) does with processes, mounts and files:
 * a private folder per run, daemons started detached with their log in it, a wait until they answer, and a cleanup
 * that leaves nothing behind: every process whose command line names the folder killed with its descendants, every
 * mount under the folder undone, the folder removed, and the files, folders and cgroups the engine makes outside it
 * (at fixed paths such as /run/runc) removed when this run created them.
 */
import { execFile, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, rm, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** What a command printed, and how it ended. */
export interface RunResult {
  /** Exit status. */
  code: number;
  /** Standard output. */
  stdout: string;
  /** Standard error. */
  stderr: string;
}

/** Runs `file args` with `env`; never rejects for a non-zero exit, only when it cannot run or times out. */
export function runCommand(file: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(file, [...args], { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== "number") return reject(new Error(`${file} ${args.join(" ")}: ${error.message}\n${stderr}`));
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** True while process `pid` runs; a zombie (dead, waiting for its parent, e.g. init, to reap it) does not count. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2));
  } catch {
    return false;
  }
}

/** Waits up to `ms` for process `pid` to be gone; true when it is. */
export async function waitForExit(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/** A new private folder under the system's temp folder; keep `prefix` short (socket paths below it must fit 108 bytes). */
export function privateDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Pids of the processes whose command line mentions `text` (a run's unique folder), this process excepted. */
export function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(text)) pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
}

/** Every descendant of `pids` (children, their children...), from /proc/<pid>/stat. */
export function descendantsOf(pids: readonly number[]): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone
    }
  }
  const found = new Set<number>();
  const queue = [...pids];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const child of children.get(pid) ?? []) {
      if (!found.has(child) && child !== process.pid) {
        found.add(child);
        queue.push(child);
      }
    }
  }
  return [...found];
}

/**
 * Kills (SIGKILL) every process whose command line mentions `text`, and their descendants (a container's processes
 * under conmon or a containerd shim name no folder), then waits up to 5 s for them to go. Returns the pids killed.
 */
export async function killProcessesMentioning(text: string): Promise<number[]> {
  const named = processesMentioning(text);
  const all = [...new Set([...descendantsOf(named), ...named])];
  for (const pid of all) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  for (const pid of all) await waitForExit(pid, 5_000);
  return all;
}

/** Mount points at or under `dir`, deepest first. */
export function mountsUnder(dir: string): string[] {
  const points = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[4])
    .filter((p): p is string => p !== undefined)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8))))
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/** Detaches (`umount -n -l`: lazily, and without making /run/mount/utab) every mount at or under `dir`. */
export async function unmountUnder(dir: string): Promise<void> {
  for (const point of mountsUnder(dir)) await runCommand("umount", ["-n", "-l", point], process.env, 10_000).catch(() => undefined);
}

/** A daemon started by a harness: its own session, output to a log file. */
export interface DetachedProcess {
  /** Its pid. */
  readonly pid: number;
  /** The file its stdout and stderr go to. */
  readonly logFile: string;
  /** Its log so far ("" before it wrote anything). */
  log(): string;
  /** True until it has exited. */
  running(): boolean;
  /** Sends `signal` to it (SIGHUP for a reload), unless it has exited. */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after `graceMs` (default 20 s); resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts `file args` in a new session (detached, stdin closed), stdout and stderr appended to `logFile`. */
export function startDetached(file: string, args: readonly string[], options: { logFile: string; env?: NodeJS.ProcessEnv }): DetachedProcess {
  const logFd = openSync(options.logFile, "a");
  const child = spawn(file, [...args], { detached: true, stdio: ["ignore", logFd, logFd], env: options.env ?? process.env });
  closeSync(logFd);
  let exitedNow = false;
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exitedNow = true;
      resolve();
    }),
  );
  child.once("error", () => undefined); // a missing binary shows as an exit, with the reason in the log
  const running = (): boolean => !exitedNow && child.exitCode === null && child.signalCode === null;
  return {
    pid: child.pid ?? -1,
    logFile: options.logFile,
    log() {
      try {
        return readFileSync(options.logFile, "utf8");
      } catch {
        return "";
      }
    },
    running,
    signal(signal) {
      if (running()) child.kill(signal);
    },
    async stop(graceMs = 20_000) {
      if (!running()) return;
      child.kill("SIGTERM");
      if (!(await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]))) {
        child.kill("SIGKILL");
        await exited;
      }
    },
  };
}

/**
 * Polls `ready` every 100 ms until it answers true; throws when `daemon` exits first or after `timeoutMs`, with the
 * end of the daemon's log. `what` names the wait in the error ("dockerd did not answer").
 */
export async function waitUntilReady(what: string, daemon: DetachedProcess, ready: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!daemon.running()) throw new Error(`${what}: it exited at start:\n${daemon.log().slice(-3000)}`);
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs / 1000} s:\n${daemon.log().slice(-3000)}`);
    await sleep(100);
  }
}

/** A path outside the run's folder that an engine may create, and whether it was there before the run. */
export interface OutsidePath {
  /** The absolute path. */
  readonly path: string;
  /** A file is removed; a folder only when empty (never another run's files); a mount point is unmounted first. */
  readonly kind: "file" | "dir";
  /** Whether it existed when the run started. */
  readonly existed: boolean;
}

/** Notes which of `paths` exist now, so that `removeCreatedOutside` removes only what the run created. */
export function noteOutside(paths: ReadonlyArray<{ path: string; kind: "file" | "dir" }>): OutsidePath[] {
  return paths.map((p) => ({ ...p, existed: existsSync(p.path) }));
}

/** Removes the noted paths that did not exist at the start, in the order given (list files before their folders). */
export async function removeCreatedOutside(noted: readonly OutsidePath[]): Promise<void> {
  for (const item of noted) {
    if (item.existed || !existsSync(item.path)) continue;
    if (item.kind === "file") {
      await rm(item.path, { force: true });
      continue;
    }
    // Podman makes /run/netns a mount point of itself; an empty one is left mounted
    if (mountsUnder(item.path)[0] === item.path && readdirSync(item.path).length === 0) await unmountUnder(item.path);
    await rmdir(item.path).catch(() => undefined); // only when empty
  }
}

/** The folders cgroup hierarchies are mounted on (each cgroup v1 controller, and the v2 tree). */
export function cgroupRoots(): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .filter((line) => / - cgroup2? /.test(line))
    .map((line) => line.split(" ")[4])
    .filter((p): p is string => p !== undefined);
}

/** The top-level cgroups that exist now in any hierarchy, for `removeNewCgroups`. */
export function noteCgroups(): Set<string> {
  const seen = new Set<string>();
  for (const root of cgroupRoots()) {
    try {
      for (const entry of readdirSync(root, { withFileTypes: true })) if (entry.isDirectory()) seen.add(join(root, entry.name));
    } catch {
      // not readable
    }
  }
  return seen;
}

/**
 * Removes the top-level cgroups called `names` (e.g. "libpod_parent", a containerd namespace) that were not in
 * `before`, with their sub-cgroups, deepest first; a cgroup with a process in it stays (rmdir refuses).
 */
export async function removeNewCgroups(before: ReadonlySet<string>, names: readonly string[]): Promise<void> {
  const removeTree = async (dir: string): Promise<void> => {
    let entries: string[] = [];
    try {
      entries = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(dir, e.name));
    } catch {
      return;
    }
    for (const sub of entries) await removeTree(sub);
    await rmdir(dir).catch(() => undefined);
  };
  for (const root of cgroupRoots()) {
    for (const name of new Set(names)) {
      const dir = join(root, name);
      if (!before.has(dir) && existsSync(dir) && statSync(dir).isDirectory()) await removeTree(dir);
    }
  }
}

/**
 * Deletes (`runc --root <runcRoot> delete --force`) the containers in runc's state folder `runcRoot` whose state names
 * `dir`: what an engine leaves there when its shim or conmon was killed. runc kills the container's processes (it
 * checks their start time) and removes the state; a state runc cannot delete is removed as a folder.
 */
export async function deleteRuncStatesUnder(runcRoot: string, dir: string, runc: string): Promise<void> {
  let ids: string[] = [];
  try {
    ids = readdirSync(runcRoot);
  } catch {
    return;
  }
  for (const id of ids) {
    try {
      if (!readFileSync(join(runcRoot, id, "state.json"), "utf8").includes(dir)) continue;
    } catch {
      continue;
    }
    await runCommand(runc, ["--root", runcRoot, "delete", "--force", id], process.env, 10_000).catch(() => undefined);
    await rm(join(runcRoot, id), { recursive: true, force: true });
  }
}

/**
 * The end of every harness's stop(): kills what still names `dir` (with descendants), undoes the mounts under it,
 * removes it, then removes what the run created outside it.
 */
export async function removeRunFolder(dir: string, outside: readonly OutsidePath[] = []): Promise<void> {
  await killProcessesMentioning(dir);
  await unmountUnder(dir);
  await rm(dir, { recursive: true, force: true });
  await removeCreatedOutside(outside);
}

/** A harness run's private folder, with what the run's end must remove besides it. */
export interface RunFolder {
  /** The folder. */
  readonly dir: string;
  /** The fixed paths noted at the start (whether each existed then). */
  readonly outside: readonly OutsidePath[];
  /**
   * Kills what still names the folder (with descendants), undoes the mounts under it, removes it, then removes
   * `extraOutside` and the fixed paths the run created, and the top-level `cgroups` that are new since the start.
   */
  remove(options?: { cgroups?: readonly string[]; extraOutside?: readonly OutsidePath[] }): Promise<void>;
}

/** Makes a private folder (`privateDir(prefix)`) and notes which of `fixedPaths` and which top-level cgroups exist now. */
export async function openRunFolder(prefix: string, fixedPaths: ReadonlyArray<{ path: string; kind: "file" | "dir" }> = []): Promise<RunFolder> {
  const outside = noteOutside(fixedPaths);
  const cgroups = noteCgroups();
  const dir = await privateDir(prefix);
  return {
    dir,
    outside,
    async remove(options = {}) {
      await removeRunFolder(dir, [...(options.extraOutside ?? []), ...outside]);
      await removeNewCgroups(cgroups, options.cgroups ?? []);
    },
  };
}

/** What a run left behind: processes naming its folder, mounts under it, and whether the folder is still there. */
export function leftoversOf(dir: string): { processes: number[]; mounts: string[]; folderExists: boolean } {
  return { processes: processesMentioning(dir), mounts: mountsUnder(dir), folderExists: existsSync(dir) };
}

/** The noted paths that did not exist at the start and still do (a folder only when empty: a full one is another run's). */
export function leftOutside(noted: readonly OutsidePath[]): string[] {
  return noted
    .filter((item) => !item.existed && existsSync(item.path))
    .filter((item) => item.kind === "file" || readdirSync(item.path).length === 0)
    .map((item) => item.path);
}
