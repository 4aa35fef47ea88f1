/**
 * Whether the kernel's OOM killer killed a process of a running container, as runc reports it: `runc events <id>`
 * streams an "oom" event whenever the oom_kill counter of the container's memory cgroup grows (runc watches cgroup
 * v2's memory.events, or cgroup v1's memory.oom_control through an eventfd). runc removes the cgroup when the
 * container ends, so the counter cannot be read afterwards: the watch runs while the container does.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

/** A watch on one container's OOM kills. */
export interface OomWatch {
  /** Stops watching; true when an OOM kill was reported since the watch began. */
  stop(): Promise<boolean>;
}

/** A watch that never sees a kill (dry-run mode, or no runtime support). */
export const noOomWatch: OomWatch = { stop: async () => false };

/** Starts `runc --root <root> events <id>` and notes its "oom" events. */
export function watchRuncOomEvents(binary: string, root: string, id: string): OomWatch {
  const child = spawn(binary, ["--root", root, "events", "--interval", "1h", id], { stdio: ["ignore", "pipe", "ignore"] });
  let killed = false;
  child.on("error", () => undefined);
  const ended = new Promise<void>((resolve) => child.on("close", () => resolve()));
  createInterface({ input: child.stdout }).on("line", (line) => {
    try {
      if ((JSON.parse(line) as { type?: string }).type === "oom") killed = true;
    } catch {
      // not an event line
    }
  });
  return {
    stop: async () => {
      // runc ends its events stream itself once the container is gone; a last event may still be in the pipe
      const timer = setTimeout(() => child.kill("SIGKILL"), 500);
      await ended;
      clearTimeout(timer);
      return killed;
    },
  };
}
