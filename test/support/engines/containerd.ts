/**
 * A real standalone containerd 1.6 for tests, with its CRI plugin (what kubelet talks to) unless told otherwise: root,
 * state, socket, CNI folders, opt folder and the CRI's runc state in a private folder, the config keys that make it
 * run here (`restrict_oom_score_adj`), and a busybox image with PATH and `sleep 3600` imported into the k8s.io
 * namespace, which is also the CRI sandbox image. `stop()` deletes every task and container, stops containerd,
 * kills what is left (shims, containers) by pid, undoes the mounts under the folder, removes it, and removes what
 * containerd and ctr make at fixed paths when this run made it (shim sockets in /run/containerd/s, ctr's FIFOs in
 * /run/containerd/fifo, runc state in /run/containerd/runc/<namespace>, top-level cgroups named after namespaces).
 *
 * A CRI client (e.g. one generated from kubernetes/cri-api v0.25.0's runtime/v1 api.proto) dials
 * `unix://<socketPath>`; pods must use the host network (no CNI plugin is configured) and must not set a hostname.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { writeBusyboxArchive, defaultBusyboxArchiveName } from "./images.js";
import { deleteRuncStatesUnder, openRunFolder, runCommand, startDetached, waitUntilReady, type OutsidePath, type RunResult } from "./processes.js";
import { findTool, skipReason, type Tool } from "../tools.js";

/** The tools a standalone containerd needs here (describeWithTools(containerdTools, ...)). */
export const containerdTools: readonly Tool[] = ["root", "containerd", "ctr", "runc", "busybox"];

/** Why a standalone containerd cannot run here (naming the missing tool and its package), or undefined when it can. */
export function containerdSkipReason(): string | undefined {
  if (process.platform !== "linux") return "containerd tests need Linux";
  return skipReason(...containerdTools);
}

/** The namespace the CRI plugin keeps its images, pods and containers in; ctr() uses it unless given `-n`. */
export const criNamespace = "k8s.io";

/** The busybox image (PATH set, command `/bin/sleep 3600`) imported at start, and the CRI sandbox image. */
export const containerdImage = defaultBusyboxArchiveName;

/** Fixed folders containerd 1.6 and ctr use whatever the configuration says; stop() removes the ones the run made (when empty). */
export const containerdFixedPaths: ReadonlyArray<{ path: string; kind: "file" | "dir" }> = [
  { path: "/run/containerd/s", kind: "dir" }, // shim sockets
  { path: "/run/containerd/fifo", kind: "dir" }, // ctr's FIFOs for a task's stdio
  { path: "/run/containerd/runc", kind: "dir" }, // runc's state for ctr run (per namespace)
  { path: "/run/containerd", kind: "dir" },
];

/** How to start a containerd. */
export interface ContainerdOptions {
  /** Serve the CRI plugin (default true); false disables it (plain containerd, ctr only). */
  cri?: boolean;
  /** The OCI runtime binary the CRI plugin's runc runtime calls (absolute path, e.g. a wrapper); default runc. */
  criRuntimePath?: string;
  /** Registries (host:port) the CRI plugin pulls from over plain HTTP, e.g. a startRegistry() address. */
  insecureRegistries?: readonly string[];
}

/** A containerd started for a test file. */
export interface Containerd {
  /** The private folder holding everything of this containerd. */
  readonly dir: string;
  /** Its gRPC socket: `ctr -a`, and a CRI client's `unix://` target. */
  readonly socketPath: string;
  /** Its config.toml. */
  readonly configFile: string;
  /** containerd's pid. */
  readonly pid: number;
  /** The imported busybox image's name (also the CRI sandbox image), in namespace `namespace`. */
  readonly image: string;
  /** The namespace the image is in and ctr() defaults to: "k8s.io", the CRI plugin's. */
  readonly namespace: string;
  /** Whether the CRI plugin is served. */
  readonly cri: boolean;
  /** Runs `ctr -a <socket> args` (namespace k8s.io unless args give `-n`); never rejects for a non-zero exit. */
  ctr(args: readonly string[], options?: { timeoutMs?: number }): Promise<RunResult>;
  /** containerd's log so far. */
  log(): string;
  /** Deletes every task and container, stops containerd and its shims, and removes everything this run created. */
  stop(): Promise<void>;
  /**
   * Kills containerd (SIGKILL: shims and containers keep running, as after a crash) and starts it again on the same
   * socket; `whileDown` runs between the two (containerd is started again even when it throws, and its error is thrown after).
   */
  restart(options?: { whileDown?: () => Promise<void> }): Promise<void>;
}

const tomlString = (s: string): string => JSON.stringify(s);

/** The config.toml: containerd's defaults but for these keys. */
function configToml(dir: string, options: ContainerdOptions): string {
  const cri = options.cri ?? true;
  const lines = [
    "version = 2",
    `root = ${tomlString(join(dir, "root"))}`,
    `state = ${tomlString(join(dir, "state"))}`,
    // the CRI plugin's is the only one that needs disabling; aufs, btrfs, zfs and devmapper skip themselves
    `disabled_plugins = ${cri ? "[]" : '["io.containerd.grpc.v1.cri"]'}`,
    "[grpc]",
    `  address = ${tomlString(join(dir, "containerd.sock"))}`,
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = ${tomlString(join(dir, "opt"))}`,
  ];
  if (cri) {
    lines.push(
      '[plugins."io.containerd.grpc.v1.cri"]',
      `  sandbox_image = ${tomlString(containerdImage)}`,
      // root here lacks CAP_SYS_RESOURCE: without it runc fails "can't get final child's PID from pipe: EOF"
      "  restrict_oom_score_adj = true",
      `  netns_mounts_under = ${tomlString(join(dir, "netns"))}`,
      '  [plugins."io.containerd.grpc.v1.cri".cni]',
      `    bin_dir = ${tomlString(join(dir, "cni/bin"))}`,
      `    conf_dir = ${tomlString(join(dir, "cni/net.d"))}`,
      // a runtimes.runc table replaces the default one whole: its runtime_type must be given again
      '  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]',
      '    runtime_type = "io.containerd.runc.v2"',
      '  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]',
      `    Root = ${tomlString(join(dir, "runc"))}`,
      ...(options.criRuntimePath ? [`    BinaryName = ${tomlString(options.criRuntimePath)}`] : []),
      ...(options.insecureRegistries ?? []).flatMap((registry) => [
        `  [plugins."io.containerd.grpc.v1.cri".registry.mirrors.${tomlString(registry)}]`,
        `    endpoint = [${tomlString(`http://${registry}`)}]`,
      ]),
    );
  }
  return `${lines.join("\n")}\n`;
}

/** Entries of `dir` now (empty when it does not exist). */
function entriesOf(dir: string): Set<string> {
  try {
    return new Set(readdirSync(dir));
  } catch {
    return new Set();
  }
}

/** The shim socket paths of this containerd's tasks, from each bundle's `address` file. */
function shimSockets(dir: string): string[] {
  const tasks = join(dir, "state/io.containerd.runtime.v2.task");
  const sockets: string[] = [];
  for (const ns of entriesOf(tasks)) {
    for (const id of entriesOf(join(tasks, ns))) {
      try {
        sockets.push(readFileSync(join(tasks, ns, id, "address"), "utf8").trim().replace(/^unix:\/\//, ""));
      } catch {
        // no shim
      }
    }
  }
  return sockets.filter((s) => s.startsWith("/run/containerd/s/"));
}

/**
 * Starts containerd with a config in a new private folder, waits until `ctr version` answers, and imports the busybox
 * image into the k8s.io namespace.
 */
export async function startContainerd(options: ContainerdOptions = {}): Promise<Containerd> {
  const runcNamespaces = entriesOf("/run/containerd/runc");
  const run = await openRunFolder("hpct-", containerdFixedPaths);
  const dir = run.dir;
  const socketPath = join(dir, "containerd.sock");
  const configFile = join(dir, "config.toml");
  for (const sub of ["cni/bin", "cni/net.d", "opt", "netns"]) await mkdir(join(dir, sub), { recursive: true });
  await writeFile(configFile, configToml(dir, options));
  let daemon = startDetached(findTool("containerd")!, ["--config", configFile, "--log-level", "warn"], { logFile: join(dir, "containerd.log") });
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir, TMPDIR: dir, CONTAINERD_NAMESPACE: criNamespace };
  const ctr = (args: readonly string[], o?: { timeoutMs?: number }): Promise<RunResult> =>
    runCommand(findTool("ctr")!, ["-a", socketPath, ...args], env, o?.timeoutMs ?? 30_000);
  const namespaces = new Set<string>([criNamespace]);
  let stopped: Promise<void> | undefined;
  const c: Containerd = {
    dir,
    socketPath,
    configFile,
    get pid() {
      return daemon.pid;
    },
    image: containerdImage,
    namespace: criNamespace,
    cri: options.cri ?? true,
    ctr,
    log: () => daemon.log(),
    async restart(restartOptions) {
      daemon.signal("SIGKILL");
      await daemon.stop(10_000);
      const down = await restartOptions?.whileDown?.().then(
        () => undefined,
        (error: unknown) => ({ error }),
      );
      daemon = startDetached(findTool("containerd")!, ["--config", configFile, "--log-level", "warn"], { logFile: join(dir, "containerd-restarted.log") });
      await waitUntilReady("containerd did not answer after its restart", daemon, async () => existsSync(socketPath) && (await ctr(["version"], { timeoutMs: 5_000 })).code === 0);
      if (down) throw down.error;
    },
    stop() {
      return (stopped ??= (async () => {
        // tasks and containers first, by containerd: shims exit, their sockets, mounts and runc state go with them
        if (daemon.running()) {
          const listed = await ctr(["namespaces", "list", "-q"], { timeoutMs: 10_000 }).catch(() => undefined);
          for (const ns of listed?.stdout.split("\n").filter(Boolean) ?? []) {
            namespaces.add(ns);
            const ids = async (kind: string): Promise<string[]> =>
              ((await ctr(["-n", ns, kind, "list", "-q"], { timeoutMs: 10_000 }).catch(() => undefined))?.stdout ?? "").split("\n").filter(Boolean);
            for (const id of await ids("tasks")) await ctr(["-n", ns, "tasks", "delete", "--force", id], { timeoutMs: 20_000 }).catch(() => undefined);
            for (const id of await ids("containers")) await ctr(["-n", ns, "containers", "delete", id], { timeoutMs: 20_000 }).catch(() => undefined);
          }
        }
        for (const ns of entriesOf(join(dir, "state/io.containerd.runtime.v2.task"))) namespaces.add(ns);
        const leftovers: OutsidePath[] = [
          ...shimSockets(dir).map((path) => ({ path, kind: "file" as const, existed: false })), // a killed shim leaves its socket
          ...[...entriesOf("/run/containerd/runc")]
            .filter((ns) => !runcNamespaces.has(ns) && namespaces.has(ns))
            .map((ns) => ({ path: join("/run/containerd/runc", ns), kind: "dir" as const, existed: false })), // ctr run's runc root
        ];
        await daemon.stop(10_000);
        // what killed shims left: runc state of ctr run's containers in /run/containerd/runc/<namespace>
        for (const ns of entriesOf("/run/containerd/runc")) await deleteRuncStatesUnder(join("/run/containerd/runc", ns), dir, findTool("runc")!);
        await run.remove({ cgroups: [...namespaces], extraOutside: leftovers });
      })());
    },
  };
  try {
    await waitUntilReady("containerd did not answer", daemon, async () => existsSync(socketPath) && (await ctr(["version"], { timeoutMs: 5_000 })).code === 0);
    const archive = join(dir, "busybox-image.tar");
    await writeBusyboxArchive(archive, join(dir, "image-work"));
    const imported = await ctr(["-n", criNamespace, "images", "import", archive], { timeoutMs: 60_000 });
    if (imported.code !== 0) throw new Error(`ctr images import failed: ${imported.stderr}`);
  } catch (error) {
    await c.stop();
    throw error;
  }
  return c;
}
