/**
 * Domain types with PouchContainer's API field names: the generated swagger types (pouchApi.generated.ts)
 * and the hand-written ones swagger lacks (Endpoint in network.ts, SandboxMeta in cri.ts), and the CRI runtime.v1 messages
 * generated from the CRI proto (criApi.generated.ts, all named Cri<Message>). Types only.
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
export type { CriPulledImage, CriSandboxMeta, LinuxPodSandboxConfig, PodSandboxConfig, PodSandboxMetadata, SandboxMeta } from "./cri.js";
export type * from "./criApi.generated.js";
