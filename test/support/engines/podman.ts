/**
 * A real Podman 4.3 Docker-compatible API service for tests (`podman system service`), driven by the docker CLI:
 * storage (vfs), run root, temp folder, containers.conf, storage.conf, registries.conf, network config and socket in
 * a private folder; containers run with runc (or a given OCI runtime, e.g. a wrapper) under cgroupfs, with the
 * default ulimits this sandbox needs; busybox imported as "bb" through the docker CLI. `stop()` removes every
 * container, stops the service, kills what is left of the run (conmon, containers) by pid, undoes the mounts under
 * the folder, removes it, and removes the files, folders and cgroups Podman makes at fixed paths when this run made
 * them (/run/runc, /run/netns, /var/lib/cni, /var/lib/containers/cache, /var/cache/containers, cgroup libpod_parent).
 *
 * The docker CLI's `docker run` asks for Docker's default network ("bridge"), which Podman 4.3's compat API always
 * turns into its default network, whatever containers.conf says: here that network ("podman") is a CNI network with
 * the loopback plugin only, so a container gets a network namespace with `lo` and nothing on the host changes (no
 * bridge, no iptables rule), as with `--network none`.
 */
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { importBusybox } from "./images.js";
import { deleteRuncStatesUnder, openRunFolder, runCommand, startDetached, waitUntilReady, type RunResult } from "./processes.js";
import { cniPluginDirs, findTool, skipReason, type Tool } from "../tools.js";

/** The tools a Podman service needs here (describeWithTools(podmanTools, ...)). */
export const podmanTools: readonly Tool[] = ["root", "podman", "cni", "runc", "busybox", "docker"];

/** Why a Podman service cannot run here (naming the missing tool and its package), or undefined when it can. */
export function podmanSkipReason(): string | undefined {
  if (process.platform !== "linux") return "podman tests need Linux";
  return skipReason(...podmanTools);
}

/** How to start a Podman service. */
export interface PodmanServiceOptions {
  /** The OCI runtime containers run with (absolute path, e.g. a wrapper that calls runc); default runc. */
  runtimePath?: string;
  /** Registries ("host:port") Podman may use over plain HTTP: an `insecure = true` entry each in its registries.conf. */
  insecureRegistries?: readonly string[];
  /** Folders of OCI hook files (oci-hooks(5)), containers.conf `hooks_dir`; default an empty private one (no host hooks). */
  hooksDirs?: readonly string[];
  /** Storage driver (default "vfs"; "overlay" works here too, with one mount per running container). */
  storageDriver?: "vfs" | "overlay";
  /** Import busybox as image "bb" (default true). */
  importBusybox?: boolean;
  /** More OCI runtimes by name (absolute paths), containers.conf `[engine.runtimes]`, for `--runtime <name>`. */
  runtimes?: Readonly<Record<string, string>>;
}

/** Options of one docker or podman CLI run. */
export interface CliOptions {
  /** Kill it after this long (default 30 s). */
  timeoutMs?: number;
  /** Another binary to run, e.g. "/usr/bin/docker" (Debian's docker CLI 20.10) instead of the one on PATH (28.2 here). */
  binary?: string;
}

/** A Podman Docker-compatible service started for a test file. */
export interface PodmanService {
  /** The private folder holding everything of this service. */
  readonly dir: string;
  /** Its API socket (Docker API at /v1.41/..., libpod API at /v4.3.1/libpod/...). */
  readonly socketPath: string;
  /** The service's pid. */
  readonly pid: number;
  /** The environment the harness runs podman and docker with (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF, DOCKER_HOST...). */
  readonly env: Readonly<NodeJS.ProcessEnv>;
  /** Its containers.conf. */
  readonly containersConf: string;
  /** Runs the podman CLI on the same storage and configuration (not through the socket); never rejects for a non-zero exit. */
  podman(args: readonly string[], options?: CliOptions): Promise<RunResult>;
  /** Runs the docker CLI with DOCKER_HOST at the service; never rejects for a non-zero exit. */
  docker(args: readonly string[], options?: CliOptions): Promise<RunResult>;
  /** The service's log so far. */
  log(): string;
  /** Removes every container, stops the service and removes everything this run created. */
  stop(): Promise<void>;
}

/** Fixed paths Podman 4.3 as root uses whatever its configuration says (files before their folders); stop() removes the ones the run made. */
export const podmanFixedPaths: ReadonlyArray<{ path: string; kind: "file" | "dir" }> = [
  { path: "/run/runc", kind: "dir" }, // runc's state root; Podman passes no --root to it
  { path: "/run/netns", kind: "dir" }, // network namespaces (a mount point of itself, made by Podman)
  { path: "/var/lib/cni/results", kind: "dir" }, // libcni's cache of results
  { path: "/var/lib/cni/networks", kind: "dir" },
  { path: "/var/lib/cni", kind: "dir" },
  { path: "/var/lib/containers/cache/blob-info-cache-v1.boltdb", kind: "file" }, // containers/image's blob cache
  { path: "/var/lib/containers/cache", kind: "dir" },
  { path: "/var/lib/containers", kind: "dir" },
  { path: "/var/cache/containers/short-name-aliases.conf.lock", kind: "file" }, // short-name resolution
  { path: "/var/cache/containers/short-name-aliases.conf", kind: "file" },
  { path: "/var/cache/containers", kind: "dir" },
];

const tomlString = (s: string): string => JSON.stringify(s);
const tomlList = (items: readonly string[]): string => `[${items.map(tomlString).join(", ")}]`;

/** Writes the service's configuration files into `dir`; returns the environment that selects them. */
async function writeConfiguration(dir: string, options: PodmanServiceOptions): Promise<NodeJS.ProcessEnv> {
  const runtime = options.runtimePath ?? findTool("runc")!;
  for (const sub of ["tmp", "cni", "hooks.d"]) await mkdir(join(dir, sub), { recursive: true });
  await writeFile(
    join(dir, "containers.conf"),
    [
      "[containers]",
      // without it every container fails here: Podman raises RLIMIT_NPROC and the sandbox refuses
      'default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]',
      'netns = "none"',
      "[network]",
      'network_backend = "cni"',
      `network_config_dir = ${tomlString(join(dir, "cni"))}`,
      `cni_plugin_dirs = ${tomlList(cniPluginDirs)}`,
      "[engine]",
      // the runtime is called "runc" whatever its path, so that Podman passes it runc's flags (--log-format json)
      'runtime = "runc"',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `events_logfile_path = ${tomlString(join(dir, "events.log"))}`,
      `tmp_dir = ${tomlString(join(dir, "tmp"))}`,
      'lock_type = "file"', // the default, shm, leaves /dev/shm/libpod_lock behind
      `hooks_dir = ${tomlList(options.hooksDirs ?? [join(dir, "hooks.d")])}`,
      "[engine.runtimes]",
      `runc = ${tomlList([runtime])}`,
      ...Object.entries(options.runtimes ?? {}).map(([name, path]) => `${tomlString(name)} = ${tomlList([path])}`),
      "",
    ].join("\n"),
  );
  await writeFile(
    join(dir, "storage.conf"),
    ["[storage]", `driver = ${tomlString(options.storageDriver ?? "vfs")}`, `graphroot = ${tomlString(join(dir, "root"))}`, `runroot = ${tomlString(join(dir, "runroot"))}`, ""].join("\n"),
  );
  await writeFile(
    join(dir, "registries.conf"),
    [
      'short-name-mode = "permissive"',
      "unqualified-search-registries = []",
      ...(options.insecureRegistries ?? []).flatMap((location) => ["", "[[registry]]", `location = ${tomlString(location)}`, "insecure = true"]),
      "",
    ].join("\n"),
  );
  // `podman run` and `podman create` refuse a REGISTRY_AUTH_FILE that does not exist; an empty one holds no logins
  await writeFile(join(dir, "auth.json"), JSON.stringify({ auths: {} }));
  // Podman's default network, which the docker CLI's containers join: loopback only, nothing on the host
  await writeFile(join(dir, "cni", "podman.conflist"), JSON.stringify({ cniVersion: "0.4.0", name: "podman", plugins: [{ type: "loopback" }] }));
  return {
    PATH: process.env.PATH,
    HOME: dir,
    TMPDIR: join(dir, "tmp"),
    CONTAINERS_CONF: join(dir, "containers.conf"),
    CONTAINERS_STORAGE_CONF: join(dir, "storage.conf"),
    CONTAINERS_REGISTRIES_CONF: join(dir, "registries.conf"),
    REGISTRY_AUTH_FILE: join(dir, "auth.json"),
    DOCKER_HOST: `unix://${join(dir, "podman.sock")}`,
    DOCKER_CONFIG: join(dir, "cli"),
  };
}

/**
 * Starts `podman system service` on a socket in a new private folder, waits until `docker version` answers through
 * it, and (unless told not to) imports busybox as image "bb".
 */
export async function startPodmanService(options: PodmanServiceOptions = {}): Promise<PodmanService> {
  const run = await openRunFolder("hppm-", podmanFixedPaths);
  const dir = run.dir;
  const socketPath = join(dir, "podman.sock");
  const env = await writeConfiguration(dir, options);
  const podmanBin = findTool("podman")!;
  const globalFlags = ["--root", join(dir, "root"), "--runroot", join(dir, "runroot"), "--storage-driver", options.storageDriver ?? "vfs"];
  const service = startDetached(podmanBin, [...globalFlags, "system", "service", "--time=0", `unix://${socketPath}`], { logFile: join(dir, "service.log"), env });
  const podman = (args: readonly string[], o?: CliOptions): Promise<RunResult> => runCommand(o?.binary ?? podmanBin, [...globalFlags, ...args], env, o?.timeoutMs ?? 30_000);
  const docker = (args: readonly string[], o?: CliOptions): Promise<RunResult> => runCommand(o?.binary ?? findTool("docker")!, args, env, o?.timeoutMs ?? 30_000);
  let stopped: Promise<void> | undefined;
  const p: PodmanService = {
    dir,
    socketPath,
    pid: service.pid,
    env,
    containersConf: env.CONTAINERS_CONF!,
    podman,
    docker,
    log: () => service.log(),
    stop() {
      return (stopped ??= (async () => {
        // pods and containers first, by Podman itself: conmon, runc state, network namespaces and cgroups go with them
        await podman(["pod", "rm", "--all", "--force", "--time", "0"], { timeoutMs: 60_000 }).catch(() => undefined);
        await podman(["rm", "--all", "--force", "--time", "0"], { timeoutMs: 60_000 }).catch(() => undefined);
        await service.stop(10_000);
        // what a killed conmon left: Podman passes runc no --root, so its state is in /run/runc
        await deleteRuncStatesUnder("/run/runc", dir, findTool("runc")!);
        await run.remove({ cgroups: ["libpod_parent"] });
      })());
    },
  };
  try {
    await waitUntilReady("the Podman service did not answer", service, async () => existsSync(socketPath) && (await docker(["version"], { timeoutMs: 5_000 })).code === 0);
    if (options.importBusybox ?? true) await importBusybox(env, findTool("docker")!);
  } catch (error) {
    await p.stop();
    throw error;
  }
  return p;
}
