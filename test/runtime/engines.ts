/**
 * Engines for the runtime wrapper's tests besides dockerd (test/docker/dockerd.ts): a standalone containerd 1.6 and
 * Podman 4.3, each with a private root, state and socket in a temporary folder (the engines README's settings), and a
 * busybox root filesystem to run. Each stop leaves nothing behind: the engine's processes stopped by pid, everything
 * still mentioning the folder killed, mounts under it undone, the folder removed.
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { killProcessesMentioning, unmountUnder, waitForExit } from "../support/engines/processes.js";
import { toolPath } from "../support/tools.js";
import { exec, runFile, waitFor, type RunResult } from "./helpers.js";

/** A root filesystem in `dir`: busybox and its applets in /bin, and the folders runc mounts over. */
/** Removes an engine's folder once the engine stopped: what still mentions it (shims, containers), its mounts, its files. */
async function removeEngineFolder(dir: string): Promise<void> {
  await killProcessesMentioning(dir);
  await unmountUnder(dir);
  await rm(dir, { recursive: true, force: true });
}

export async function busyboxRootfs(dir: string): Promise<string> {
  const busybox = toolPath("busybox");
  for (const sub of ["bin", "proc", "sys", "dev", "etc", "tmp"]) await mkdir(join(dir, sub), { recursive: true });
  await copyFile(busybox, join(dir, "bin/busybox"));
  for (const applet of (await exec(busybox, ["--list"])).split("\n").filter((a) => a !== "" && a !== "busybox")) {
    await symlink("busybox", join(dir, "bin", applet)).catch(() => undefined);
  }
  return dir;
}

/** A containerd of its own. */
export interface Containerd {
  /** Its folder. */
  readonly dir: string;
  /** Its gRPC socket. */
  readonly socket: string;
  /** Runs `ctr -a <socket> -n <namespace> ...`; never rejects for a non-zero exit. */
  ctr(args: readonly string[]): Promise<RunResult>;
  /** Stops it and removes everything it made. */
  stop(): Promise<void>;
}

/** Starts a containerd with its root, state and socket in a new temporary folder (CRI off), in namespace `namespace`. */
export async function startContainerd(namespace: string): Promise<Containerd> {
  const dir = await mkdtemp(join(tmpdir(), "hprc-"));
  const socket = join(dir, "c.sock");
  const config = [
    "version = 2",
    `root = "${dir}/root"`,
    `state = "${dir}/state"`,
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    "[grpc]",
    `  address = "${socket}"`,
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = "${dir}/opt"`,
    "",
  ].join("\n");
  await writeFile(join(dir, "config.toml"), config);
  const log = openSync(join(dir, "containerd.log"), "a");
  const child = spawn(toolPath("containerd"), ["--config", join(dir, "config.toml")], { detached: true, stdio: ["ignore", log, log] });
  closeSync(log);
  const ctrBin = toolPath("ctr");
  let stopped: Promise<void> | undefined;
  const c: Containerd = {
    dir,
    socket,
    ctr: (args) => runFile(ctrBin, ["-a", socket, "-n", namespace, ...args], { timeoutMs: 60_000 }),
    stop: () =>
      (stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill("SIGTERM");
          if (!(await waitForExit(child.pid!, 10_000))) child.kill("SIGKILL");
        }
        await removeEngineFolder(dir);
      })()),
  };
  try {
    await waitFor(async () => existsSync(socket) && (await c.ctr(["version"])).code === 0, 20_000, `containerd on ${socket}:\n${readFileSync(join(dir, "containerd.log"), "utf8").slice(-2000)}`);
  } catch (error) {
    await c.stop();
    throw error;
  }
  return c;
}

/** A Podman of its own: private root, run root and temporary folder, vfs storage, the image "bb". */
export interface Podman {
  /** Its folder. */
  readonly dir: string;
  /** Runs podman with the private settings before `args`; never rejects for a non-zero exit. */
  podman(args: readonly string[]): Promise<RunResult>;
  /** Removes its containers and everything it made. */
  stop(): Promise<void>;
}

/**
 * Sets up Podman in a new temporary folder: containers.conf as the engines README says (default_ulimits, or every
 * container fails here; cgroupfs; file events), its own root, run root and temporary folder, and
 * the busybox root filesystem imported as "bb".
 */
export async function startPodman(): Promise<Podman> {
  const dir = await mkdtemp(join(tmpdir(), "hprp-"));
  const conf = join(dir, "containers.conf");
  await writeFile(
    conf,
    [
      "[containers]",
      'default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]',
      "[engine]",
      'runtime = "runc"',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `tmp_dir = "${dir}/tmp"`,
      "",
    ].join("\n"),
  );
  const podmanBin = toolPath("podman");
  const env = { ...process.env, CONTAINERS_CONF: conf };
  const base = ["--root", join(dir, "root"), "--runroot", join(dir, "runroot"), "--storage-driver", "vfs"];
  // no private runc state folder (--runtime-flag root=...): conmon's exit command (`podman container cleanup`) does not
  // pass runtime flags on, so its `runc delete` missed the container and a later start failed 1 time in 4 with
  // "container with given ID already exists"; `stop` removes every container, and with it its state in /run/runc
  let stopped: Promise<void> | undefined;
  const p: Podman = {
    dir,
    podman: (args) => runFile(podmanBin, [...base, ...args], { env, timeoutMs: 60_000 }),
    stop: () =>
      (stopped ??= (async () => {
        await p.podman(["rm", "--all", "--force", "--time", "0"]).catch(() => undefined);
        await removeEngineFolder(dir);
      })()),
  };
  try {
    const rootfs = await busyboxRootfs(join(dir, "rootfs"));
    const tar = await runFile("/bin/sh", ["-c", `tar -C '${rootfs}' -c . | '${podmanBin}' ${base.map((a) => `'${a}'`).join(" ")} import - bb`], { env, timeoutMs: 60_000 });
    if (tar.code !== 0) throw new Error(`podman import failed: ${tar.stderr}`);
  } catch (error) {
    await p.stop();
    throw error;
  }
  return p;
}
