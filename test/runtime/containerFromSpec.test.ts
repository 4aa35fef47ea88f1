/**
 * The container object preStart gets when the wrapper runs it itself: what the spec says, under ContainerJSON's names.
 */
import { describe, expect, it } from "vitest";
import { containerFromSpec, type OciSpec } from "hookplugins/runtime";

const spec: OciSpec = {
  ociVersion: "1.0.2-dev",
  process: {
    terminal: true,
    user: { uid: 1000, gid: 100 },
    args: ["sh", "-c", "sleep 1"],
    env: ["PATH=/bin", "A=b"],
    cwd: "/work",
    rlimits: [{ type: "RLIMIT_NOFILE", hard: 2048, soft: 1024 }],
    oomScoreAdj: 10,
  },
  root: { path: "rootfs", readonly: true },
  hostname: "host1",
  domainname: "example.org",
  mounts: [
    { destination: "/proc", type: "proc", source: "proc", options: ["nosuid"] },
    { destination: "/data", type: "bind", source: "/srv/data", options: ["rbind", "rprivate", "ro"] },
  ],
  annotations: { "io.podman.annotations.autoremove": "TRUE" },
  linux: {
    resources: {
      memory: { limit: 67108864, reservation: 1024, swap: 134217728, swappiness: 60, disableOOMKiller: false },
      cpu: { shares: 512, quota: 50000, period: 100000, cpus: "0-1", mems: "0" },
      pids: { limit: 100 },
      blockIO: { weight: 300 },
    },
    sysctl: { "net.ipv4.ip_forward": "1" },
    maskedPaths: ["/proc/kcore"],
    readonlyPaths: ["/proc/sys"],
  },
};

describe("containerFromSpec", () => {
  const container = containerFromSpec(spec, "abc", "/bundles/abc");

  it("holds the id and the process as Path, Args and Config.Cmd", () => {
    expect(container).toMatchObject({ Id: "abc", Path: "sh", Args: ["-c", "sleep 1"], Config: { Cmd: ["sh", "-c", "sleep 1"] } });
  });

  it("holds the process's env, working folder, user and terminal, the host and domain names, and the annotations", () => {
    expect(container.Config).toEqual({
      Image: "",
      Cmd: ["sh", "-c", "sleep 1"],
      Env: ["PATH=/bin", "A=b"],
      WorkingDir: "/work",
      User: "1000:100",
      Tty: true,
      Hostname: "host1",
      Domainname: "example.org",
      SpecAnnotation: { "io.podman.annotations.autoremove": "TRUE" },
    });
  });

  it("maps linux.resources, rlimits and the rest to HostConfig fields", () => {
    expect(container.HostConfig).toEqual({
      Memory: 67108864,
      MemoryReservation: 1024,
      MemorySwap: 134217728,
      MemorySwappiness: 60,
      OomKillDisable: false,
      CpuShares: 512,
      CpuQuota: 50000,
      CpuPeriod: 100000,
      CpusetCpus: "0-1",
      CpusetMems: "0",
      PidsLimit: 100,
      BlkioWeight: 300,
      Ulimits: [{ Name: "nofile", Soft: 1024, Hard: 2048 }],
      OomScoreAdj: 10,
      ReadonlyRootfs: true,
      Sysctls: { "net.ipv4.ip_forward": "1" },
      MaskedPaths: ["/proc/kcore"],
      ReadonlyPaths: ["/proc/sys"],
    });
  });

  it("maps mounts to MountPoints with their mode, read-write flag and propagation", () => {
    expect(container.Mounts).toEqual([
      { Destination: "/proc", Type: "proc", Source: "proc", Mode: "nosuid", RW: true },
      { Destination: "/data", Type: "bind", Source: "/srv/data", Mode: "rbind,rprivate,ro", RW: false, Propagation: "rprivate" },
    ]);
  });

  it("gives the root filesystem, resolved against the bundle, as GraphDriver.Data.MergedDir and HostRootPath", () => {
    expect(container.GraphDriver).toEqual({ Name: "", Data: { MergedDir: "/bundles/abc/rootfs" } });
    expect(container.HostRootPath).toBe("/bundles/abc/rootfs");
  });

  it("makes nothing up for a spec that says little", () => {
    expect(containerFromSpec({ root: { path: "/abs/rootfs" } }, "x", "/b")).toEqual({
      Id: "x",
      Config: { Image: "" },
      HostConfig: {},
      Mounts: [],
      GraphDriver: { Name: "", Data: { MergedDir: "/abs/rootfs" } },
      HostRootPath: "/abs/rootfs",
    });
  });
});
