/**
 * A real dockerd for tests: data, exec root, socket and config file in a temporary folder (iptables off, no bridge,
 * vfs storage), a busybox image imported as "bb", unique plugin names, and a stop that leaves nothing behind:
 * dockerd and its containerd stopped by pid, mounts under the folder undone, the folder removed, and the files dockerd
 * makes outside it (/etc/docker/key.json, /run/docker/plugins, /run/containerd, the cgroup docker) removed when this
 * run created them. The process, mount and file handling is test/support/engines/processes.ts, shared with the
 * Podman, registry and containerd harnesses.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { busyboxImageScript, importBusybox } from "../support/engines/images.js";
import { openRunFolder, runCommand, sleep, startDetached, waitForExit, waitUntilReady, type DetachedProcess, type RunResult } from "../support/engines/processes.js";
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

/** What a docker CLI run printed (exit status, stdout, stderr). */
export type DockerResult = RunResult;

/** The script the README uses to make the local image: busybox's root filesystem through `docker import`. */
export { busyboxImageScript };

/** A dockerd started for a test file. */
export interface Dockerd {
  /** The temporary folder holding everything of this dockerd. */
  readonly dir: string;
  /** Its API socket. */
  readonly socketPath: string;
  /** Its --config-file (JSON); change it with reload(). */
  readonly configFile: string;
  /** dockerd's pid (a new one after restart()). */
  readonly pid: number;
  /** Runs the docker CLI against it; never rejects for a non-zero exit. */
  docker(args: readonly string[], options?: { timeoutMs?: number }): Promise<DockerResult>;
  /** Writes `config` as its config file, sends SIGHUP and waits until dockerd has reloaded it. */
  reload(config: Record<string, unknown>): Promise<void>;
  /** dockerd's log so far. */
  log(): string;
  /**
   * Stops dockerd (SIGTERM: it stops its containers, as on a real restart) and its containerd, then starts it again
   * on the same folder, socket and config; resolves once it answers. `whileDown` runs between the two.
   */
  restart(whileDown?: () => Promise<void>): Promise<void>;
  /** Stops dockerd and its containerd by pid and removes everything this dockerd created. */
  stop(): Promise<void>;
}

/** Starts a dockerd in a new temporary folder, waits until it answers, and imports busybox as image "bb". */
export async function startDockerd(options: { config?: Record<string, unknown> } = {}): Promise<Dockerd> {
  // a short path: UNIX socket paths under it must stay below 108 bytes
  const run = await openRunFolder("hpdd-", [
    { path: "/etc/docker/key.json", kind: "file" },
    { path: "/etc/docker", kind: "dir" },
    { path: dockerPluginDir, kind: "dir" },
    { path: "/run/docker", kind: "dir" },
    { path: "/run/containerd/s", kind: "dir" },
    { path: "/run/containerd", kind: "dir" },
  ]);
  const dir = run.dir;
  const socketPath = join(dir, "docker.sock");
  const configFile = join(dir, "daemon.json");
  await writeFile(configFile, JSON.stringify(options.config ?? {}));
  const launch = (): DetachedProcess => startDetached(
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
    { logFile: join(dir, "dockerd.log") },
  );
  let daemon = launch();
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir, DOCKER_HOST: `unix://${socketPath}`, DOCKER_CONFIG: join(dir, "cli") };
  const dockerBin = findOnPath("docker")!;
  const log = (): string => daemon.log();
  let stopped: Promise<void> | undefined;
  const stopDaemon = async (): Promise<void> => {
    const containerdPid = Number(await readFile(join(dir, "exec/containerd/containerd.pid"), "utf8").catch(() => "0")) || 0;
    await daemon.stop(20_000);
    if (containerdPid && !(await waitForExit(containerdPid, 5_000))) process.kill(containerdPid, "SIGKILL");
  };
  const answers = async (): Promise<boolean> => existsSync(socketPath) && (await d.docker(["version", "--format", "{{.Server.Version}}"], { timeoutMs: 5_000 })).code === 0;
  const d: Dockerd = {
    dir,
    socketPath,
    configFile,
    get pid() {
      return daemon.pid;
    },
    docker: (args, o) => runCommand(dockerBin, args, env, o?.timeoutMs ?? 30_000),
    log,
    async reload(config) {
      const before = log().split("Reloaded configuration").length;
      await writeFile(configFile, JSON.stringify(config));
      daemon.signal("SIGHUP");
      const deadline = Date.now() + 40_000;
      while (log().split("Reloaded configuration").length === before) {
        if (!daemon.running()) throw new Error(`dockerd exited while reloading its configuration:\n${log().slice(-3000)}`);
        if (Date.now() > deadline) throw new Error(`dockerd did not reload its configuration within 40 s:\n${log().slice(-3000)}`);
        await sleep(100);
      }
    },
    async restart(whileDown) {
      await stopDaemon();
      await whileDown?.();
      daemon = launch();
      await waitUntilReady("dockerd did not answer after a restart", daemon, answers);
    },
    stop() {
      return (stopped ??= (async () => {
        await stopDaemon();
        // anything else started for this folder (shims of containers still running, and their containers)
        await run.remove({ cgroups: ["docker"] });
      })());
    },
  };
  try {
    await waitUntilReady("dockerd did not answer", daemon, answers);
    await importBusybox(env, dockerBin);
  } catch (error) {
    await d.stop();
    throw error;
  }
  return d;
}
