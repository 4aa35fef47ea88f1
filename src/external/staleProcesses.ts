/**
 * At a host's start, stopping the executable plugins that an earlier host left running (a plugin that ignores the
 * host pipe rule outlives a host killed with SIGKILL), and removing their pid files and sockets. A process is only
 * signalled when its pid, start time and boot all match its pid file, and the host that started it is gone: a pid
 * reused by an unrelated process is never touched.
 */
import { lstat, readdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { readHostFile, readPidFile, type PluginPidRecord } from "./pidFiles.js";
import { isRunning, processIdentity, signalGroup, type ProcessIdentity } from "./processIdentity.js";
import { socketAccepts } from "./socketAccepts.js";
import { removeStaleSocket } from "./unixSocket.js";

/** One stale thing found at a host's start, and what was done about it. */
export interface StalePluginReport {
  /** The plugin's name (from its pid file, or its socket's file name). */
  readonly plugin: string;
  /** The process id its pid file names (undefined for a socket without a pid file). */
  readonly pid: number | undefined;
  /** The stale file: a pid file, or a socket without one. */
  readonly file: string;
  /**
   * "stopped": the plugin still ran and was stopped (`signal` says how); "not-running": its process was gone;
   * "pid-reused": its pid now belongs to another process, which was left alone; "socket-removed": a socket nobody served.
   */
  readonly action: "stopped" | "not-running" | "pid-reused" | "socket-removed";
  /** The last signal sent, for "stopped". */
  readonly signal: "SIGTERM" | "SIGKILL" | undefined;
  /** One line that says all of it, for a log. */
  readonly message: string;
}

/** Options of cleanStalePlugins. */
export interface StaleCleanupOptions {
  /** Time between SIGTERM and SIGKILL, in ms. */
  readonly graceMs: number;
  /** Remove each folder whose owning host is gone, once cleaned (a host's temp folders; not a configured runDir). */
  readonly removeDirs: boolean;
}


async function waitGone(process: ProcessIdentity, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (!(await isRunning(process))) return true;
    if (Date.now() >= end) return false;
    await sleep(25);
  }
}

/** Resolves once nothing accepts connections on the socket `path`, or after `ms`. */
async function untilNotAccepting(path: string, ms: number): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end && (await socketAccepts(path)); ) await sleep(100);
}

/** SIGTERM, up to `graceMs` for it to end, then SIGKILL; resolves with the last signal sent. */
async function stopPlugin(record: PluginPidRecord, graceMs: number): Promise<"SIGTERM" | "SIGKILL"> {
  signalGroup(record.process.pid, "SIGTERM");
  if (await waitGone(record.process, graceMs)) return "SIGTERM";
  // checked again right before: never signal a pid that has been given to another process since
  if (await isRunning(record.process)) signalGroup(record.process.pid, "SIGKILL");
  // SIGKILL cannot be ignored, but a busy machine can take over a second to end the process and close its socket
  await waitGone(record.process, 5000);
  return "SIGKILL";
}

/**
 * Removes `path` if it is a socket in `dir` nobody serves; resolves with undefined when it did, why it did not, or
 * false for a path outside `dir` (a pid file that names a socket elsewhere: not ours to remove or to mention).
 */
async function removeSocket(path: string, dir: string): Promise<string | false | undefined> {
  if (dirname(path) !== dir) return false;
  try {
    if (!(await lstat(path)).isSocket()) return "it is not a socket";
  } catch {
    return "it was gone already";
  }
  try {
    await removeStaleSocket(path);
    return undefined;
  } catch (error) {
    return (error as Error).message; // something serves it
  }
}

async function cleanPidFile(file: string, record: PluginPidRecord, dir: string, graceMs: number): Promise<StalePluginReport> {
  const { plugin, process: proc, host } = record;
  const left = `executable plugin "${plugin}" (pid ${proc.pid}, started by host pid ${host.pid}, which is gone)`;
  let action: StalePluginReport["action"];
  let signal: StalePluginReport["signal"];
  let what: string;
  if (await isRunning(proc)) {
    action = "stopped";
    signal = await stopPlugin(record, graceMs);
    what = `${left} was still running: stopped it with ${signal}`;
  } else if (await processIdentity(proc.pid)) {
    action = "pid-reused";
    what = `${left} is no longer running; its pid now belongs to another process, which was left alone`;
  } else {
    action = "not-running";
    what = `${left} is no longer running`;
  }
  await rm(file, { force: true });
  // a plugin just killed can hold its socket a moment longer on a busy machine
  if (action === "stopped" && dirname(record.socket) === dir) await untilNotAccepting(record.socket, 5000);
  const socketLeft = await removeSocket(record.socket, dir);
  const message = `${what}; removed its stale pid file ${file}${socketLeft === undefined ? ` and socket ${record.socket}` : socketLeft === false ? "" : `, and left its socket ${record.socket}: ${socketLeft}`}`;
  return { plugin, pid: proc.pid, file, action, signal, message };
}

/** Cleans one runtime folder; resolves with what it found. */
async function cleanDir(dir: string, options: StaleCleanupOptions): Promise<StalePluginReport[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const owner = await readHostFile(dir);
  const ownerGone = owner !== undefined && !(await isRunning(owner));
  const reports: StalePluginReport[] = [];
  const handled = new Set<string>();
  for (const name of names.filter((n) => n.endsWith(".pid"))) {
    const file = join(dir, name);
    const record = await readPidFile(file);
    // unreadable (not ours), or started by a host that still runs (maybe this one): left alone
    if (!record || (await isRunning(record.host))) continue;
    handled.add(join(dir, `${record.plugin}.sock`));
    reports.push(await cleanPidFile(file, record, dir, options.graceMs));
  }
  if (ownerGone) {
    for (const name of names.filter((n) => n.endsWith(".sock"))) {
      const file = join(dir, name);
      if (handled.has(file) || (await removeSocket(file, dir)) !== undefined) continue;
      const plugin = name.slice(0, -".sock".length);
      reports.push({ plugin, pid: undefined, file, action: "socket-removed", signal: undefined, message: `removed the stale socket ${file} of executable plugin "${plugin}": its host (pid ${owner.pid}) is gone and nothing serves it` });
    }
    if (options.removeDirs) await rm(dir, { recursive: true, force: true });
  }
  return reports;
}

/**
 * Looks in `dirs` (runtime folders of earlier hosts) for plugin processes whose host is gone: stops those still
 * running, removes their pid files and sockets, and resolves with a report of each. Needs Linux /proc; elsewhere
 * nothing can be identified and nothing is done.
 */
export async function cleanStalePlugins(dirs: readonly string[], options: StaleCleanupOptions): Promise<StalePluginReport[]> {
  const reports = await Promise.all(dirs.map((dir) => cleanDir(dir, options)));
  return reports.flat();
}
