/**
 * Whether the kernel's OOM killer killed a process of a running container: the `oom_kill` counter of the container's
 * memory cgroup (cgroup v2 `memory.events`, cgroup v1 `memory.oom_control`), found through /proc/<pid>/cgroup.
 * runc removes the cgroup when the container ends, so the counter is read while it runs: on every change of
 * memory.events (v2, inotify) and every `pollMs` (v1, whose files send no change events), and once more at the end.
 */
import { watch, type FSWatcher } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";

/** How often the counter is read where the kernel sends no change events (cgroup v1). */
export const pollMs = 250;

/** A watch on one container's OOM kills. */
export interface OomWatch {
  /** Reads the counter a last time, stops watching; true when it grew since the watch began. */
  stop(): Promise<boolean>;
}

/** The memory cgroup file holding `oom_kill` for the process `pid`, if there is one. */
export async function oomCounterFile(pid: number, cgroupRoot = "/sys/fs/cgroup"): Promise<string | undefined> {
  const lines = await readFile(`/proc/${pid}/cgroup`, "utf8").catch(() => "");
  for (const line of lines.split("\n")) {
    const [, controllers, path] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    if (path === undefined) continue;
    const candidates =
      controllers === "" ? [join(cgroupRoot, path, "memory.events")] : controllers?.split(",").includes("memory") ? [join(cgroupRoot, "memory", path, "memory.oom_control")] : [];
    for (const file of candidates) if ((await readCounter(file)) !== undefined) return file;
  }
  return undefined;
}

/** The `oom_kill` value of a memory.events or memory.oom_control file (undefined when unreadable). */
export async function readCounter(file: string): Promise<number | undefined> {
  const text = await readFile(file, "utf8").catch(() => undefined);
  const match = text === undefined ? null : /^oom_kill (\d+)$/m.exec(text);
  return match ? Number(match[1]) : undefined;
}

/** Starts watching the container whose init process is `pid`; without a memory cgroup, stop() says false. */
export async function watchOomKills(pid: number): Promise<OomWatch> {
  const file = pid > 0 ? await oomCounterFile(pid) : undefined;
  if (file === undefined) return { stop: async () => false };
  const baseline = (await readCounter(file)) ?? 0;
  let latest = baseline;
  const update = (): void => {
    void readCounter(file).then((n) => {
      if (n !== undefined && n > latest) latest = n;
    });
  };
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  if (file.endsWith("memory.events")) {
    watcher = watch(file, update);
    watcher.on("error", () => undefined);
  } else {
    timer = setInterval(update, pollMs);
    timer.unref();
  }
  return {
    stop: async () => {
      watcher?.close();
      if (timer) clearInterval(timer);
      const last = await readCounter(file);
      return Math.max(latest, last ?? 0) > baseline;
    },
  };
}
