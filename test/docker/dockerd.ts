/**
 * A real dockerd for tests: data, exec root, socket and config file in a temporary folder (iptables off, no bridge,
 * vfs storage), a busybox image imported as "bb", unique plugin names, and a stop that leaves nothing behind:
 * dockerd and its containerd stopped by pid, mounts under the folder undone, the folder removed, and the files dockerd
 * makes outside it (/etc/docker/key.json, /run/docker/plugins, /run/containerd) removed when this run created them.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, openSync, closeSync, readFileSync, readdirSync } from "node:fs";
import { mkdtemp, readFile, rm, rmdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { allTools, findExecutable, findTool, skipReason, type Tool } from "../support/tools.js";

/** Where Docker looks for plugin sockets (fixed in dockerd). */
export const dockerPluginDir = "/run/docker/plugins";

/** The full path of `tool` (found once, by test/support/tools.ts, on PATH and in the usual folders), or undefined. */
export function findOnPath(tool: string): string | undefined {
  return (allTools as readonly string[]).includes(tool) ? findTool(tool as Tool) : findExecutable(tool);
}

/** Why a dockerd cannot run here (naming the missing tool and its package), or undefined when it can. */
export function dockerdSkipReason(): string | undefined {
  if (process.platform !== "linux") return "dockerd tests need Linux";
  const missing = skipReason("root", "dockerd", "docker", "runc", "busybox");
  if (missing) return missing;
  for (const tool of ["containerd", "tar"]) {
    if (!findExecutable(tool)) return `needs ${tool} (apt-get install -y docker.io)`;
  }
  return undefined;
}

/** A unique Docker plugin name for this run. */
export function uniquePluginName(prefix = "hptest"): string {
  return `${prefix}-${process.pid}-${randomBytes(3).toString("hex")}`;
}

/** What a docker CLI run printed. */
export interface DockerResult {
  /** Exit status. */
  code: number;
  /** Standard output. */
  stdout: string;
  /** Standard error. */
  stderr: string;
}

/** A dockerd started for a test file. */
export interface Dockerd {
  /** The temporary folder holding everything of this dockerd. */
  readonly dir: string;
  /** Its API socket. */
  readonly socketPath: string;
  /** Its --config-file (JSON); change it with reload(). */
  readonly configFile: string;
  /** dockerd's pid. */
  readonly pid: number;
  /** Runs the docker CLI against it; never rejects for a non-zero exit. */
  docker(args: readonly string[], options?: { timeoutMs?: number }): Promise<DockerResult>;
  /** Writes `config` as its config file, sends SIGHUP and waits until dockerd has reloaded it. */
  reload(config: Record<string, unknown>): Promise<void>;
  /** dockerd's log so far. */
  log(): string;
  /** Stops dockerd and its containerd by pid and removes everything this dockerd created. */
  stop(): Promise<void>;
}

function run(file: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<DockerResult> {
  return new Promise((resolve, reject) => {
    execFile(file, [...args], { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== "number") return reject(new Error(`${file} ${args.join(" ")}: ${error.message}\n${stderr}`));
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits until process `pid` is gone; false when it is still there after `ms`. */
export async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/** Pids of the processes whose command line mentions `text` (the run's unique folder). */
function processesMentioning(text: string): number[] {
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

/** Mount points at or under `dir`, deepest first. */
function mountsUnder(dir: string): string[] {
  const points = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[4])
    .filter((p): p is string => p !== undefined)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8))))
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/**
 * Removes an engine's temporary folder once the engine has stopped: kills what still mentions it (shims of containers
 * still running), undoes the mounts under it, and removes it.
 */
export async function removeEngineFolder(dir: string): Promise<void> {
  for (const pid of processesMentioning(dir)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  for (const point of mountsUnder(dir)) await run("umount", ["-l", point], process.env, 10_000).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
}

/** The script the README uses to make the local image: busybox's root filesystem through `docker import`. */
export const busyboxImageScript = join(dirname(fileURLToPath(import.meta.url)), "../../scripts/busybox-image.sh");

/** Imports busybox as image `bb`, with the README's script. */
async function importBusybox(env: NodeJS.ProcessEnv, dockerBin: string): Promise<void> {
  const imported = await run("/bin/sh", [busyboxImageScript, "bb"], { ...env, DOCKER: dockerBin }, 60_000);
  if (imported.code !== 0) throw new Error(`scripts/busybox-image.sh failed: ${imported.stderr}`);
}

/** Starts a dockerd in a new temporary folder, waits until it answers, and imports busybox as image "bb". */
export async function startDockerd(options: { config?: Record<string, unknown> } = {}): Promise<Dockerd> {
  const createdOutside = [
    { path: "/etc/docker/key.json", existed: existsSync("/etc/docker/key.json"), kind: "file" as const },
    { path: "/etc/docker", existed: existsSync("/etc/docker"), kind: "dir" as const },
    { path: dockerPluginDir, existed: existsSync(dockerPluginDir), kind: "dir" as const },
    { path: "/run/docker", existed: existsSync("/run/docker"), kind: "dir" as const },
    { path: "/run/containerd/s", existed: existsSync("/run/containerd/s"), kind: "dir" as const },
    { path: "/run/containerd", existed: existsSync("/run/containerd"), kind: "dir" as const },
  ];
  // a short path: UNIX socket paths under it must stay below 108 bytes
  const dir = await mkdtemp(join(tmpdir(), "hpdd-"));
  const socketPath = join(dir, "docker.sock");
  const configFile = join(dir, "daemon.json");
  const logFile = join(dir, "dockerd.log");
  await writeFile(configFile, JSON.stringify(options.config ?? {}));
  const logFd = openSync(logFile, "a");
  const child: ChildProcess = spawn(
    findOnPath("dockerd")!,
    [
      "--iptables=false",
      "--ip6tables=false",
      "--bridge=none",
      "--storage-driver=vfs",
      "--data-root", join(dir, "data"),
      "--exec-root", join(dir, "exec"),
      "--pidfile", join(dir, "dockerd.pid"),
      "--config-file", configFile,
      "-H", `unix://${socketPath}`,
    ],
    { detached: true, stdio: ["ignore", logFd, logFd] },
  );
  closeSync(logFd);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir, DOCKER_HOST: `unix://${socketPath}`, DOCKER_CONFIG: join(dir, "cli") };
  const dockerBin = findOnPath("docker")!;
  const log = (): string => {
    try {
      return readFileSync(logFile, "utf8");
    } catch {
      return "";
    }
  };
  let stopped: Promise<void> | undefined;
  const d: Dockerd = {
    dir,
    socketPath,
    configFile,
    pid: child.pid!,
    docker: (args, o) => run(dockerBin, args, env, o?.timeoutMs ?? 30_000),
    log,
    async reload(config) {
      const before = log().split("Reloaded configuration").length;
      await writeFile(configFile, JSON.stringify(config));
      process.kill(child.pid!, "SIGHUP");
      const deadline = Date.now() + 40_000;
      while (log().split("Reloaded configuration").length === before) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`dockerd exited while reloading its configuration:\n${log().slice(-3000)}`);
        if (Date.now() > deadline) throw new Error(`dockerd did not reload its configuration within 40 s:\n${log().slice(-3000)}`);
        await sleep(100);
      }
    },
    stop() {
      return (stopped ??= (async () => {
        const containerdPid = Number(await readFile(join(dir, "exec/containerd/containerd.pid"), "utf8").catch(() => "0")) || 0;
        if (child.exitCode === null && child.signalCode === null) {
          child.kill("SIGTERM");
          const done = await Promise.race([exited.then(() => true), sleep(20_000).then(() => false)]);
          if (!done) {
            child.kill("SIGKILL");
            await exited;
          }
        }
        if (containerdPid && !(await waitGone(containerdPid, 5_000))) process.kill(containerdPid, "SIGKILL");
        await removeEngineFolder(dir);
        for (const item of createdOutside) {
          if (item.existed) continue;
          if (item.kind === "file") await rm(item.path, { force: true });
          else await rmdir(item.path).catch(() => undefined); // only when empty: never another run's files
        }
      })());
    },
  };
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`dockerd exited at start:\n${log().slice(-3000)}`);
      if (existsSync(socketPath)) {
        const r = await d.docker(["version", "--format", "{{.Server.Version}}"], { timeoutMs: 5_000 }).catch(() => undefined);
        if (r?.code === 0) break;
      }
      if (Date.now() > deadline) throw new Error(`dockerd did not answer within 30 s:\n${log().slice(-3000)}`);
      await sleep(100);
    }
    await importBusybox(env, dockerBin);
  } catch (error) {
    await d.stop();
    throw error;
  }
  return d;
}
