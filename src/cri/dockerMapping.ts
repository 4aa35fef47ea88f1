/**
 * The one mapping between CRI's ContainerConfig and the Docker-style create config that ContainerPlugins (envlimits,
 * policy, ...) are written against: CRI → Docker before the plugins run, and the plugins' changes back to CRI after.
 * A change to a Docker field that has no CRI field here is refused, never dropped.
 */
import type { ContainerCreateConfig, CriContainerConfig, CriMount, HostConfig, LeafChange } from "hookplugins";
import { diffLeaves } from "hookplugins";

/** One row of the mapping: the Docker-style field (a JSON pointer) and where it lives in CRI's ContainerConfig. */
export interface MappedField {
  /** JSON pointer in the Docker-style config, e.g. "/HostConfig/Memory". */
  readonly docker: string;
  /** The CRI field path, e.g. "linux.resources.memory_limit_in_bytes". */
  readonly cri: string;
  /** How values convert, when not one to one. */
  readonly note: string;
}

/** Every mapped field, in the order the README's table lists them. */
export const criDockerMapping: readonly MappedField[] = [
  { docker: "/Image", cri: "image.image", note: "the image reference" },
  { docker: "/Env", cri: "envs", note: '"KEY=value" ↔ { key, value } (an entry without "=" is a key with an empty value)' },
  { docker: "/Labels", cri: "labels", note: "the same map (CRI annotations are not mapped)" },
  { docker: "/HostConfig/Memory", cri: "linux.resources.memory_limit_in_bytes", note: "bytes; 0 = no limit" },
  { docker: "/HostConfig/MemorySwap", cri: "linux.resources.memory_swap_limit_in_bytes", note: "bytes; 0 = unset" },
  { docker: "/HostConfig/CpuShares", cri: "linux.resources.cpu_shares", note: "" },
  { docker: "/HostConfig/CpuQuota", cri: "linux.resources.cpu_quota", note: "µs" },
  { docker: "/HostConfig/CpuPeriod", cri: "linux.resources.cpu_period", note: "µs" },
  { docker: "/HostConfig/CpusetCpus", cri: "linux.resources.cpuset_cpus", note: "" },
  { docker: "/HostConfig/CpusetMems", cri: "linux.resources.cpuset_mems", note: "" },
  { docker: "/HostConfig/Privileged", cri: "linux.security_context.privileged", note: "" },
  {
    docker: "/HostConfig/Binds",
    cri: "mounts",
    note: '"host:container[:opts]" ↔ { host_path, container_path, readonly (ro), selinux_relabel (Z or z), propagation (rprivate 0, rslave 1, rshared 2) }',
  },
];

/** The resource fields mapped one to one: Docker's HostConfig name and CRI's LinuxContainerResources name. */
const resourceFields = [
  ["Memory", "memory_limit_in_bytes"],
  ["MemorySwap", "memory_swap_limit_in_bytes"],
  ["CpuShares", "cpu_shares"],
  ["CpuQuota", "cpu_quota"],
  ["CpuPeriod", "cpu_period"],
  ["CpusetCpus", "cpuset_cpus"],
  ["CpusetMems", "cpuset_mems"],
] as const;

const propagationNames: Record<number, string> = { 1: "rslave", 2: "rshared" };

/** A CRI mount as a Docker bind string. */
export function bindOf(mount: CriMount): string {
  const options = [
    ...(mount.readonly ? ["ro"] : []),
    ...(mount.selinux_relabel ? ["Z"] : []),
    ...(mount.propagation ? [propagationNames[mount.propagation] ?? `propagation-${mount.propagation}`] : []),
  ];
  return `${mount.host_path ?? ""}:${mount.container_path ?? ""}${options.length ? `:${options.join(",")}` : ""}`;
}

/** A Docker bind string as a CRI mount; throws an Error saying which forms the CRI path takes. */
export function mountOf(bind: string): CriMount {
  const [host = "", container, options, ...rest] = bind.split(":");
  if (!host.startsWith("/") || !container?.startsWith("/") || rest.length) {
    throw new Error(`bind ${JSON.stringify(bind)} is not "/host/path:/container/path[:options]"; a CRI mount needs absolute host and container paths (named volumes do not exist on the CRI path)`);
  }
  const mount: CriMount = { container_path: container, host_path: host };
  for (const option of options ? options.split(",") : []) {
    if (option === "ro") mount.readonly = true;
    else if (option === "rw") mount.readonly = false;
    else if (option === "Z" || option === "z") mount.selinux_relabel = true;
    else if (option === "rprivate" || option === "private") mount.propagation = 0;
    else if (option === "rslave" || option === "slave") mount.propagation = 1;
    else if (option === "rshared" || option === "shared") mount.propagation = 2;
    else throw new Error(`bind ${JSON.stringify(bind)}: option ${JSON.stringify(option)} has no CRI mount field; use ro, rw, Z, z, rprivate, rslave or rshared`);
  }
  return mount;
}

/** The Docker-style view of a CRI ContainerConfig, holding exactly the mapped fields. */
export function toDockerConfig(cri: CriContainerConfig): ContainerCreateConfig {
  const resources = cri.linux?.resources ?? {};
  const hostConfig: HostConfig = { Privileged: cri.linux?.security_context?.privileged ?? false, Binds: (cri.mounts ?? []).map(bindOf) };
  for (const [docker, field] of resourceFields) {
    const value = resources[field] ?? defaultOfResource(field);
    // the Docker-style fields are numbers; a 64-bit value beyond 2^53 (a bigint) shows rounded there, and reaches the
    // runtime exact unless a plugin changes it (unchanged fields keep their bytes)
    (hostConfig as Record<string, unknown>)[docker] = typeof value === "bigint" ? Number(value) : value;
  }
  return {
    Image: cri.image?.image ?? "",
    Env: (cri.envs ?? []).map((kv) => `${kv.key ?? ""}=${kv.value ?? ""}`),
    Labels: { ...cri.labels },
    HostConfig: hostConfig,
  };
}

function defaultOfResource(field: string): number | string {
  return field.startsWith("cpuset") ? "" : 0;
}

function keyValueOf(entry: string): { key: string; value: string } {
  const eq = entry.indexOf("=");
  return eq === -1 ? { key: entry, value: "" } : { key: entry.slice(0, eq), value: entry.slice(eq + 1) };
}

const changed = (a: unknown, b: unknown): boolean => diffLeaves(a, b).length > 0;

/**
 * Applies to `cri` (in place) what the plugins changed from `before` (toDockerConfig of it) to `after`, field by field
 * of the mapping; mounts the plugins kept keep every CRI field of the request. Returns the leaf changes the mapping
 * cannot carry (fields that have no CRI field here), which the caller refuses. Throws an Error for a value that has
 * no CRI form (a bind of a named volume, a bind option CRI lacks).
 */
export function applyDockerChanges(cri: CriContainerConfig, before: ContainerCreateConfig, after: ContainerCreateConfig): LeafChange[] {
  if (changed(before.Image, after.Image)) cri.image = { ...cri.image, image: after.Image ?? "" };
  if (changed(before.Env, after.Env)) cri.envs = (after.Env ?? []).map(keyValueOf);
  if (changed(before.Labels, after.Labels)) cri.labels = { ...after.Labels };
  const b = before.HostConfig ?? {};
  const a = after.HostConfig ?? {};
  for (const [docker, field] of resourceFields) {
    if (!changed(b[docker], a[docker])) continue;
    cri.linux ??= {};
    cri.linux.resources ??= {};
    (cri.linux.resources as Record<string, unknown>)[field] = a[docker] ?? defaultOfResource(field);
  }
  if (changed(b.Privileged, a.Privileged)) {
    cri.linux ??= {};
    cri.linux.security_context = { ...cri.linux.security_context, privileged: a.Privileged === true };
  }
  const bindsChanged = changed(b.Binds, a.Binds);
  if (bindsChanged) {
    const kept = new Map((cri.mounts ?? []).map((m) => [bindOf(m), m]));
    cri.mounts = (a.Binds ?? []).map((bind) => kept.get(bind) ?? mountOf(bind));
  }
  // what the mapping could not carry: the plugins' result (in the mapping's own spelling, a mapped field the plugins
  // removed as its default) against the Docker view of the result. Binds are spelled by the mounts they became, so
  // a mount the plugins did not touch is never parsed again (its host path may hold a ":").
  const spelledHost: HostConfig = {
    ...a,
    Privileged: a.Privileged ?? false,
    Binds: bindsChanged ? (cri.mounts ?? []).map(bindOf) : (a.Binds ?? []),
  };
  for (const [docker, field] of resourceFields) (spelledHost as Record<string, unknown>)[docker] = a[docker] ?? defaultOfResource(field);
  const spelled: ContainerCreateConfig = {
    ...after,
    Image: after.Image ?? "",
    Env: (after.Env ?? []).map((entry) => (entry.includes("=") ? entry : `${entry}=`)),
    Labels: after.Labels ?? {},
    HostConfig: spelledHost,
  };
  return diffLeaves(toDockerConfig(cri), spelled);
}
