/**
 * The container object the wrapper gives `ContainerPlugin.preStart` when it runs preStart itself (no hand-off from the
 * proxy): what the OCI spec and the engine's command line reliably say, under the library's `ContainerJSON` names.
 * Nothing is made up: a field the spec does not hold stays absent (the image, the name, labels, networks and the state
 * are not in any engine's spec, so `Config.Image` is "").
 */
import { isAbsolute, resolve } from "node:path";
import type { ContainerJSON, HostConfig, MountPoint } from "hookplugins";

/** The parts of an OCI runtime spec (config.json) the wrapper reads; everything is optional, as engines differ. */
export interface OciSpec {
  /** The spec's version. */
  readonly ociVersion?: string;
  /** The container's process. */
  readonly process?: {
    readonly terminal?: boolean;
    readonly user?: { readonly uid?: number; readonly gid?: number; readonly username?: string; readonly additionalGids?: readonly number[] };
    readonly args?: readonly string[];
    readonly env?: readonly string[];
    readonly cwd?: string;
    readonly rlimits?: readonly { readonly type: string; readonly hard: number; readonly soft: number }[];
    readonly oomScoreAdj?: number;
  };
  /** The root filesystem. */
  readonly root?: { readonly path?: string; readonly readonly?: boolean };
  /** The container's host name. */
  readonly hostname?: string;
  /** The container's domain name. */
  readonly domainname?: string;
  /** Mounts, in order. */
  readonly mounts?: readonly { readonly destination: string; readonly type?: string; readonly source?: string; readonly options?: readonly string[] }[];
  /** Annotations (Podman and CRI set some; dockerd 20.10 none). */
  readonly annotations?: Readonly<Record<string, string>>;
  /** Hooks by stage. */
  readonly hooks?: Readonly<Record<string, readonly unknown[] | null>>;
  /** Linux settings. */
  readonly linux?: {
    readonly resources?: OciResources;
    readonly sysctl?: Readonly<Record<string, string>>;
    readonly maskedPaths?: readonly string[];
    readonly readonlyPaths?: readonly string[];
  };
}

/** `linux.resources` of an OCI spec, the fields that have a HostConfig counterpart. */
export interface OciResources {
  /** Memory cgroup settings. */
  readonly memory?: { readonly limit?: number; readonly reservation?: number; readonly swap?: number; readonly kernel?: number; readonly swappiness?: number; readonly disableOOMKiller?: boolean };
  /** CPU cgroup settings. */
  readonly cpu?: { readonly shares?: number; readonly quota?: number; readonly period?: number; readonly realtimeRuntime?: number; readonly realtimePeriod?: number; readonly cpus?: string; readonly mems?: string };
  /** Pids cgroup settings. */
  readonly pids?: { readonly limit?: number };
  /** Block IO cgroup settings. */
  readonly blockIO?: { readonly weight?: number };
}

const propagations = ["rprivate", "private", "rshared", "shared", "rslave", "slave"];

function hostConfigOf(spec: OciSpec): HostConfig {
  const r = spec.linux?.resources ?? {};
  const host: HostConfig = {};
  const set = <K extends keyof HostConfig>(key: K, value: HostConfig[K] | undefined): void => {
    if (value !== undefined) host[key] = value;
  };
  set("Memory", r.memory?.limit);
  set("MemoryReservation", r.memory?.reservation);
  set("MemorySwap", r.memory?.swap);
  set("KernelMemory", r.memory?.kernel);
  set("MemorySwappiness", r.memory?.swappiness);
  set("OomKillDisable", r.memory?.disableOOMKiller);
  set("CpuShares", r.cpu?.shares);
  set("CpuQuota", r.cpu?.quota);
  set("CpuPeriod", r.cpu?.period);
  set("CpuRealtimeRuntime", r.cpu?.realtimeRuntime);
  set("CpuRealtimePeriod", r.cpu?.realtimePeriod);
  set("CpusetCpus", r.cpu?.cpus);
  set("CpusetMems", r.cpu?.mems);
  set("PidsLimit", r.pids?.limit);
  set("BlkioWeight", r.blockIO?.weight);
  set("Ulimits", spec.process?.rlimits?.map((l) => ({ Name: l.type.replace(/^RLIMIT_/, "").toLowerCase(), Soft: l.soft, Hard: l.hard })));
  set("OomScoreAdj", spec.process?.oomScoreAdj);
  set("ReadonlyRootfs", spec.root?.readonly);
  set("Sysctls", spec.linux?.sysctl === undefined ? undefined : { ...spec.linux.sysctl });
  set("MaskedPaths", spec.linux?.maskedPaths === undefined ? undefined : [...spec.linux.maskedPaths]);
  set("ReadonlyPaths", spec.linux?.readonlyPaths === undefined ? undefined : [...spec.linux.readonlyPaths]);
  return host;
}

function mountOf(m: NonNullable<OciSpec["mounts"]>[number]): MountPoint {
  const options = m.options ?? [];
  const mount: MountPoint = { Destination: m.destination, Mode: options.join(","), RW: !options.includes("ro") };
  if (m.type !== undefined) mount.Type = m.type;
  if (m.source !== undefined) mount.Source = m.source;
  const propagation = options.find((o) => propagations.includes(o));
  if (propagation !== undefined) mount.Propagation = propagation;
  return mount;
}

function userOf(user: NonNullable<OciSpec["process"]>["user"]): string | undefined {
  if (user === undefined) return undefined;
  if (user.username) return user.username;
  if (user.uid === undefined) return undefined;
  return user.gid === undefined ? String(user.uid) : `${user.uid}:${user.gid}`;
}

/**
 * The container object for container `id` whose bundle folder is `bundle` and whose spec is `spec`: `Id`, `Path` and
 * `Args` (the process), `Config` (Hostname, Domainname, User, Env, Cmd, WorkingDir, Tty, SpecAnnotation = the spec's
 * annotations; Image ""), `HostConfig` (from `linux.resources`, rlimits, oomScoreAdj, root.readonly, sysctl, masked
 * and read-only paths), `Mounts`, and the root filesystem (resolved against the bundle) as `GraphDriver.Data.MergedDir`
 * and `HostRootPath`.
 */
export function containerFromSpec(spec: OciSpec, id: string, bundle: string): ContainerJSON {
  const args = spec.process?.args ?? [];
  const container: ContainerJSON = { Id: id, Config: { Image: "" }, HostConfig: hostConfigOf(spec), Mounts: (spec.mounts ?? []).map(mountOf) };
  const config = container.Config!;
  if (args.length > 0) {
    container.Path = args[0]!;
    container.Args = args.slice(1);
    config.Cmd = [...args];
  }
  if (spec.hostname !== undefined) config.Hostname = spec.hostname;
  if (spec.domainname !== undefined) config.Domainname = spec.domainname;
  const user = userOf(spec.process?.user);
  if (user !== undefined) config.User = user;
  if (spec.process?.env !== undefined) config.Env = [...spec.process.env];
  if (spec.process?.cwd !== undefined) config.WorkingDir = spec.process.cwd;
  if (spec.process?.terminal !== undefined) config.Tty = spec.process.terminal;
  if (spec.annotations !== undefined) config.SpecAnnotation = { ...spec.annotations };
  const rootPath = spec.root?.path;
  if (rootPath !== undefined && rootPath !== "") {
    const rootfs = isAbsolute(rootPath) ? rootPath : resolve(bundle, rootPath);
    container.GraphDriver = { Name: "", Data: { MergedDir: rootfs } };
    container.HostRootPath = rootfs;
  }
  return container;
}
