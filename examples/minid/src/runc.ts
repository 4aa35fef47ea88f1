/**
 * The runc wrapper: `runc run` in the foreground (so its exit code is the container's), `state` polling to
 * know when the container runs, `kill`, `update` and `delete`, all with --root under the daemon's state dir.
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { execFileChecked, execFileCollect, signalNumber } from "./exec.js";
import { watchRuncOomEvents, type OomWatch } from "./oomWatch.js";
import type { ContainerIo, ResourceUpdate, RunningContainer, RunRequest, Runtime } from "./runtime.js";

/** How often `started` polls `runc state`. */
const pollMs = 20;

/** The last error runc wrote to its JSON log, if any. */
export async function lastRuncError(logPath: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(logPath, "utf8");
  } catch {
    return undefined;
  }
  let message: string | undefined;
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string };
      if ((entry.level === "error" || entry.level === "fatal") && entry.msg) message = entry.msg;
    } catch {
      if (/error/i.test(line)) message = line.trim();
    }
  }
  return message;
}

/** runc driven through its command line. */
export class RuncRuntime implements Runtime {
  readonly name = "runc";
  readonly dryRun = false;
  readonly #binary: string;
  readonly #root: string;

  /** A runtime calling `binary` with `--root root`. */
  constructor(binary: string, root: string) {
    this.#binary = binary;
    this.#root = root;
  }

  /** The runc command line minid uses to run a bundle. */
  runArgs(request: RunRequest): string[] {
    return ["--root", this.#root, "--log", request.runtimeLog, "--log-format", "json", "run", "--bundle", request.bundle, request.id];
  }

  run(request: RunRequest, io: ContainerIo): RunningContainer {
    const child = spawn(this.#binary, this.runArgs(request), { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (chunk: Buffer) => io.stdout(chunk));
    child.stderr.on("data", (chunk: Buffer) => io.stderr(chunk));
    let pid = 0;
    let done = false;
    const exited = new Promise<number>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", (code, signal) => {
        done = true;
        resolve(code ?? 128 + signalNumber(signal));
      });
    });
    const started = (async () => {
      for (;;) {
        if (done) {
          const error = await lastRuncError(request.runtimeLog);
          if (error) throw new Error(`runc could not start the container: ${error}`);
          return;
        }
        const state = await this.#state(request.id);
        if (state && (state.status === "running" || state.status === "stopped") && state.pid) {
          pid = state.pid;
          return;
        }
        await Promise.race([new Promise((r) => setTimeout(r, pollMs)), exited.catch(() => undefined)]);
      }
    })();
    started.catch(() => undefined);
    exited.catch(() => undefined);
    return { started, exited, pid: () => pid };
  }

  async #state(id: string): Promise<{ status: string; pid: number } | undefined> {
    const result = await execFileCollect(this.#binary, ["--root", this.#root, "state", id]);
    if (result.code !== 0) return undefined;
    try {
      return JSON.parse(result.stdout) as { status: string; pid: number };
    } catch {
      return undefined;
    }
  }

  async kill(id: string, signal: string): Promise<void> {
    await execFileChecked(this.#binary, ["--root", this.#root, "kill", id, signal]);
  }

  async update(id: string, resources: ResourceUpdate): Promise<void> {
    const args = ["--root", this.#root, "update"];
    if (resources.memory !== undefined) args.push("--memory", String(resources.memory));
    if (resources.cpuShares !== undefined) args.push("--cpu-share", String(resources.cpuShares));
    if (args.length === 3) return;
    await execFileChecked(this.#binary, [...args, id]);
  }

  watchOom(id: string): OomWatch {
    return watchRuncOomEvents(this.#binary, this.#root, id);
  }

  async delete(id: string): Promise<void> {
    await execFileCollect(this.#binary, ["--root", this.#root, "delete", "--force", id]);
  }
}
