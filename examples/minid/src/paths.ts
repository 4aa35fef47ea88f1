/**
 * Where minid keeps its state: one directory tree under --state-dir.
 */
import { join } from "node:path";

/** The directories and files of a minid state directory. */
export interface StatePaths {
  /** The state directory itself. */
  root: string;
  /** Image root filesystems and metadata. */
  images: string;
  /** One directory per container: bundle, logs. */
  containers: string;
  /** One directory per volume. */
  volumes: string;
  /** runc's --root (its own container state). */
  runcRoot: string;
  /** Daemon-owned hook scripts. */
  hooks: string;
}

/** The layout of the state directory at `root`. */
export function statePaths(root: string): StatePaths {
  return {
    root,
    images: join(root, "images"),
    containers: join(root, "containers"),
    volumes: join(root, "volumes"),
    runcRoot: join(root, "runc"),
    hooks: join(root, "hooks"),
  };
}

/** The files of one container's directory. */
export interface ContainerPaths {
  /** The container's directory. */
  dir: string;
  /** The OCI bundle directory (config.json + rootfs). */
  bundle: string;
  /** The bundle's config.json. */
  config: string;
  /** The container's root filesystem inside the bundle. */
  rootfs: string;
  /** Captured stdout/stderr, one JSON record per line. */
  log: string;
  /** runc's own log (JSON lines), where runtime errors end up. */
  runcLog: string;
}

/** The layout of container `id`'s directory. */
export function containerPaths(paths: StatePaths, id: string): ContainerPaths {
  const dir = join(paths.containers, id);
  const bundle = join(dir, "bundle");
  return {
    dir,
    bundle,
    config: join(bundle, "config.json"),
    rootfs: join(bundle, "rootfs"),
    log: join(dir, "container.log"),
    runcLog: join(dir, "runc.log"),
  };
}
