/**
 * The OCI runtime seam: how minid runs a bundle. `runc.ts` and `dryRun.ts` implement it.
 */

import type { OomWatch } from "./oomWatch.js";

/** Callbacks receiving the container's output. */
export interface ContainerIo {
  /** A chunk the container wrote to stdout. */
  stdout(chunk: Buffer): void;
  /** A chunk the container wrote to stderr. */
  stderr(chunk: Buffer): void;
}

/** Files and ids the runtime needs for one container. */
export interface RunRequest {
  /** Container id (the runtime's id too). */
  id: string;
  /** OCI bundle directory holding config.json. */
  bundle: string;
  /** Where the runtime writes its own log. */
  runtimeLog: string;
}

/** A container the runtime started. */
export interface RunningContainer {
  /** Resolves once the container process runs (or already ran); rejects when the runtime could not start it. */
  started: Promise<void>;
  /** Resolves with the exit code once the container process ended and its output was delivered. */
  exited: Promise<number>;
  /** Host pid of the container's init process, once known (0 before). */
  pid(): number;
}

/** Resource limits `update` can change on a running container. */
export interface ResourceUpdate {
  /** Memory limit in bytes. */
  memory?: number;
  /** Relative CPU weight. */
  cpuShares?: number;
}

/** An OCI runtime as minid drives it. */
export interface Runtime {
  /** "runc" or "dry-run". */
  readonly name: string;
  /** True when nothing really runs. */
  readonly dryRun: boolean;
  /** Creates and starts the bundle's container, sending its output to `io`. */
  run(request: RunRequest, io: ContainerIo): RunningContainer;
  /** Sends `signal` to the container's init process. */
  kill(id: string, signal: string): Promise<void>;
  /** Changes resource limits of a running container. */
  update(id: string, resources: ResourceUpdate): Promise<void>;
  /** Starts watching a running container for OOM kills. */
  watchOom(id: string): OomWatch;
  /** Forgets a stopped container (no error when it is unknown). */
  delete(id: string): Promise<void>;
}
