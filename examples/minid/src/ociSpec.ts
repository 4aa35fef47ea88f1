/**
 * The OCI bundle's config.json: a minimal Linux runtime spec runc 1.1 can run, built from a container's config.
 */
import { writeFile } from "node:fs/promises";

/** One OCI hook entry (the runtime-spec's shape; hookplugins' toOciHooks produces these). */
export interface OciHookEntry {
  /** Absolute path of the executable. */
  path: string;
  /** Full argv, program name first. */
  args?: string[];
  /** KEY=value environment. */
  env?: string[];
  /** Seconds before the runtime gives up on the hook. */
  timeout?: number;
}

/** One mount of the runtime spec. */
export interface OciMount {
  /** Path inside the container. */
  destination: string;
  /** Filesystem type ("proc", "tmpfs", "bind", ...). */
  type?: string;
  /** Device or host path. */
  source?: string;
  /** Mount options. */
  options?: string[];
}

/** The subset of the OCI runtime spec minid writes. */
export interface OciSpec {
  ociVersion: string;
  process: {
    terminal: boolean;
    user: { uid: number; gid: number };
    args: string[];
    env: string[];
    cwd: string;
    capabilities: Record<"bounding" | "effective" | "permitted", string[]>;
    rlimits: Array<{ type: string; hard: number; soft: number }>;
    noNewPrivileges: boolean;
  };
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: OciMount[];
  hooks?: { prestart?: OciHookEntry[] };
  annotations?: Record<string, string>;
  linux: {
    resources: {
      devices: Array<{ allow: boolean; access: string }>;
      memory?: { limit: number };
      cpu?: { shares: number };
    };
    cgroupsPath: string;
    namespaces: Array<{ type: string }>;
    maskedPaths: string[];
    readonlyPaths: string[];
  };
}

/** What the spec is built from. */
export interface OciSpecInput {
  /** Container id (cgroup path, annotations). */
  id: string;
  /** Hostname inside the container. */
  hostname: string;
  /** Full argv of the container process. */
  args: string[];
  /** KEY=value environment. */
  env: string[];
  /** Working directory (absolute). */
  cwd: string;
  /** Numeric user and group. */
  user: { uid: number; gid: number };
  /** Root filesystem path, relative to the bundle. */
  rootfs: string;
  /** Mount the root filesystem read-only. */
  readonlyRootfs: boolean;
  /** Memory limit in bytes; 0 or undefined means unlimited. */
  memory?: number;
  /** Relative CPU weight; 0 or undefined means the default. */
  cpuShares?: number;
  /** Share the host's network namespace instead of a fresh one with loopback only. */
  hostNetwork: boolean;
  /** Bind mounts (volumes and host paths). */
  binds: OciMount[];
  /** Prestart hooks in the order the runtime must run them. */
  prestart: OciHookEntry[];
  /** Free-form annotations. */
  annotations?: Record<string, string>;
}

const capabilities = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
];

const baseMounts: OciMount[] = [
  { destination: "/proc", type: "proc", source: "proc" },
  { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
  {
    destination: "/dev/pts",
    type: "devpts",
    source: "devpts",
    options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
  },
  { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
  { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
  { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
  { destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["nosuid", "noexec", "nodev", "relatime", "ro"] },
  { destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "mode=1777"] },
];

/** Builds the runtime spec for one container. */
export function buildOciSpec(input: OciSpecInput): OciSpec {
  const resources: OciSpec["linux"]["resources"] = { devices: [{ allow: false, access: "rwm" }] };
  if (input.memory && input.memory > 0) resources.memory = { limit: input.memory };
  if (input.cpuShares && input.cpuShares > 0) resources.cpu = { shares: input.cpuShares };
  const namespaces = ["pid", "ipc", "uts", "mount", ...(input.hostNetwork ? [] : ["network"])].map((type) => ({ type }));
  const spec: OciSpec = {
    ociVersion: "1.0.2",
    process: {
      terminal: false,
      user: input.user,
      args: input.args,
      env: input.env,
      cwd: input.cwd,
      capabilities: { bounding: capabilities, effective: capabilities, permitted: capabilities },
      rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: input.rootfs, readonly: input.readonlyRootfs },
    hostname: input.hostname,
    mounts: [...baseMounts.map((m) => ({ ...m, ...(m.options ? { options: [...m.options] } : {}) })), ...input.binds],
    linux: {
      resources,
      cgroupsPath: `/minid/${input.id}`,
      namespaces,
      maskedPaths: [
        "/proc/acpi",
        "/proc/asound",
        "/proc/kcore",
        "/proc/keys",
        "/proc/latency_stats",
        "/proc/timer_list",
        "/proc/timer_stats",
        "/proc/sched_debug",
        "/sys/firmware",
        "/proc/scsi",
      ],
      readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
    },
  };
  if (input.prestart.length > 0) spec.hooks = { prestart: input.prestart };
  if (input.annotations && Object.keys(input.annotations).length > 0) spec.annotations = input.annotations;
  return spec;
}

/** Writes `spec` as the bundle's config.json. */
export async function writeOciSpec(path: string, spec: OciSpec): Promise<void> {
  await writeFile(path, `${JSON.stringify(spec, null, 2)}\n`);
}
