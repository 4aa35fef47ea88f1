/**
 * Telling one process from another that later got the same pid: a pid with its start time (clock ticks since boot,
 * from /proc/<pid>/stat) and the boot's id names one process for good. Linux only; elsewhere nothing is known.
 */
import { readFile } from "node:fs/promises";

/** One process, for good: its pid, when it started, and in which boot. */
export interface ProcessIdentity {
  /** Its process id. */
  readonly pid: number;
  /** Its start time, in clock ticks since boot (field 22 of /proc/<pid>/stat), as a decimal string. */
  readonly startTime: string;
  /** The kernel's boot id (/proc/sys/kernel/random/boot_id). */
  readonly bootId: string;
}

let bootId: Promise<string | undefined> | undefined;

/** The boot id, or undefined without /proc. */
function currentBootId(): Promise<string | undefined> {
  return (bootId ??= readFile("/proc/sys/kernel/random/boot_id", "utf8").then(
    (text) => text.trim(),
    () => undefined,
  ));
}

/** The start time and state of `pid` from /proc, or undefined when it is gone (or there is no /proc). */
async function statOf(pid: number): Promise<{ startTime: string; state: string } | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so the fields start after the last ")"
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const state = fields[0];
  const startTime = fields[19];
  return state !== undefined && startTime !== undefined ? { startTime, state } : undefined;
}

/** The identity of the live process `pid`, or undefined when it is gone, a zombie, or /proc is missing. */
export async function processIdentity(pid: number): Promise<ProcessIdentity | undefined> {
  const [stat, boot] = await Promise.all([statOf(pid), currentBootId()]);
  if (!stat || boot === undefined || stat.state === "Z") return undefined;
  return { pid, startTime: stat.startTime, bootId: boot };
}

/** Whether the process `identity` names still runs (its pid is not gone, and not taken by another process). */
export async function isRunning(identity: ProcessIdentity): Promise<boolean> {
  const now = await processIdentity(identity.pid);
  return now !== undefined && now.startTime === identity.startTime && now.bootId === identity.bootId;
}

/** Signals process `pid`'s group (a plugin is started as the leader of its own), or the process alone if it left it. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // gone meanwhile
    }
  }
}
