/**
 * The container JSON `docker inspect` prints (GET /containers/{id}/json); ContainerPlugin.preStart sees the same object.
 */
import type { ContainerJSON, MountPoint } from "hookplugins";
import type { ContainerRecord } from "./containerStore.js";
import { parseBinds } from "./binds.js";

/** The Engine's inspect document for `record`. */
export function inspectContainer(record: ContainerRecord, volumesDir: string): ContainerJSON {
  const { state } = record;
  const mounts: MountPoint[] = parseBinds(record.hostConfig.Binds ?? [], volumesDir).map((b) => ({
    Type: b.volume ? "volume" : "bind",
    ...(b.volume ? { Name: b.volume, Driver: "local" } : {}),
    Source: b.source,
    Destination: b.destination,
    Mode: b.readonly ? "ro" : "",
    RW: !b.readonly,
    Propagation: "",
  }));
  return {
    Id: record.id,
    Created: record.created,
    Path: record.args[0] ?? "",
    Args: record.args.slice(1),
    State: {
      Status: state.status,
      Running: state.status === "running",
      Paused: false,
      Restarting: false,
      OOMKilled: state.oomKilled,
      Dead: false,
      Pid: state.pid,
      ExitCode: state.exitCode,
      Error: state.error,
      StartedAt: state.startedAt,
      FinishedAt: state.finishedAt,
    },
    Image: record.imageId,
    ResolvConfPath: "",
    HostnamePath: "",
    HostsPath: "",
    LogPath: record.paths.log,
    Name: `/${record.name}`,
    RestartCount: Math.max(0, record.starts - 1),
    Driver: "minid-copy",
    MountLabel: "",
    ProcessLabel: "",
    AppArmorProfile: "",
    HostConfig: { Memory: 0, CpuShares: 0, NetworkMode: "default", ...record.hostConfig },
    GraphDriver: { Name: "minid-copy", Data: { RootDir: record.paths.rootfs } },
    Mounts: mounts,
    Config: { ...record.config, Image: record.imageRef },
    NetworkSettings: {
      Bridge: "",
      SandboxID: record.id,
      SandboxKey: "",
      Ports: {},
      Networks: {
        [record.endpoint.Name ?? "minid"]: {
          NetworkID: record.endpoint.Name ?? "minid",
          EndpointID: record.endpoint.ID ?? "",
          Gateway: "",
          IPAddress: "",
          IPPrefixLen: 0,
          IPv6Gateway: "",
          GlobalIPv6Address: "",
          GlobalIPv6PrefixLen: 0,
          MacAddress: "",
          DriverOpts: null,
        },
      },
    },
  };
}
