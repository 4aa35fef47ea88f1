/**
 * Domain types with PouchContainer's API field names: the generated swagger types (pouchApi.generated.ts)
 * and the hand-written ones swagger lacks (Endpoint in network.ts, SandboxMeta in cri.ts). Types only.
 */
export type {
  ContainerConfig,
  ContainerCreateConfig,
  ContainerJSON,
  ContainerState,
  DeviceMapping,
  EndpointIPAMConfig,
  EndpointSettings,
  GraphDriverData,
  HostConfig,
  IPAddress,
  ImageInfo,
  ImageInfoRootFS,
  LogConfig,
  MountPoint,
  NetworkSettings,
  NetworkingConfig,
  NvidiaConfig,
  PortBinding,
  PortMap,
  Resources,
  RestartPolicy,
  SnapshotterData,
  Status,
  ThrottleDevice,
  Ulimit,
  VolumeCreateConfig,
  WeightDevice,
} from "./pouchApi.generated.js";
export type { Endpoint } from "./network.js";
export type {
  CriDNSConfig,
  CriPortMapping,
  LinuxPodSandboxConfig,
  PodSandboxConfig,
  PodSandboxMetadata,
  SandboxMeta,
} from "./cri.js";
