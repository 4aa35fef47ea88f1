/**
 * What the daemon's handlers share: the hookplugins host, the stores, the runtime and the daemon's log.
 */
import type { Host } from "hookplugins";
import type { ContainerStore } from "./containerStore.js";
import type { ImageStore } from "./imageStore.js";
import type { StatePaths } from "./paths.js";
import type { Runtime } from "./runtime.js";
import type { VolumeStore } from "./volumeStore.js";

/** The hookplugins host minid dispatches its hook points through. */
export type MinidHost = Host;

/** Shared state of one running daemon. */
export interface DaemonContext {
  /** Dispatches every hook point. */
  host: MinidHost;
  /** State directory layout. */
  paths: StatePaths;
  /** Images. */
  images: ImageStore;
  /** Containers. */
  containers: ContainerStore;
  /** Volumes. */
  volumes: VolumeStore;
  /** runc, or the dry-run runtime. */
  runtime: Runtime;
  /** Path of the daemon's network hook script. */
  networkHookPath: string;
  /** The host's busybox-static binary the busybox image is built from (undefined: a placeholder image). */
  busybox: string | undefined;
  /** Snapshotter name reported to ImagePlugin.postPull. */
  snapshotter: string;
  /** One line of daemon output. */
  log(line: string): void;
}
