/**
 * Containers the daemon knows, and how an API reference (full id, id prefix, name) finds one.
 */
import { EventEmitter } from "node:events";
import type { ContainerCreateConfig, Endpoint, HostConfig } from "hookplugins";
import { badRequest, notFound } from "./httpErrors.js";
import type { ContainerPaths } from "./paths.js";
import type { LogRecord } from "./logs.js";
import type { RunningContainer } from "./runtime.js";

/** The Engine's container states minid uses. */
export type ContainerStatus = "created" | "running" | "exited";

/** A container's run state, as `docker inspect` shows it under State. */
export interface ContainerState {
  status: ContainerStatus;
  pid: number;
  exitCode: number;
  error: string;
  startedAt: string;
  finishedAt: string;
  /** Whether the kernel's OOM killer killed a process of the last run. */
  oomKilled: boolean;
}

/** Events a container emits: "log" (LogRecord) while it runs, "exit" (code) when it ends, "removed". */
export interface ContainerEvents {
  log: [LogRecord];
  exit: [number];
  removed: [];
}

/** Everything minid keeps about one container. */
export interface ContainerRecord {
  /** 64 hex digits. */
  id: string;
  /** Without the leading slash. */
  name: string;
  /** ISO creation time. */
  created: string;
  /** The image id ("sha256:..."). */
  imageId: string;
  /** The image as the client named it. */
  imageRef: string;
  /** The create request body after ContainerPlugin.preCreate, without HostConfig and NetworkingConfig. */
  config: ContainerCreateConfig;
  /** Host configuration after ContainerPlugin.preCreate (and later updates). */
  hostConfig: HostConfig;
  /** The network endpoint after ContainerPlugin.preCreateEndpoint. */
  endpoint: Endpoint;
  /** Full argv of the container process. */
  args: string[];
  /** Files of this container. */
  paths: ContainerPaths;
  /** Run state. */
  state: ContainerState;
  /** The runtime's handle while the container runs. */
  process?: RunningContainer;
  /** Settles once the last run's exit was recorded and ContainerPlugin.onExit ran for it. */
  exitReported?: Promise<void>;
  /** True while a start request is preparing or launching the container. */
  starting: boolean;
  /** How many times the container was started. */
  starts: number;
  /** log/exit/removed notifications. */
  events: EventEmitter<ContainerEvents>;
}

/** A fresh "created" state. */
export function createdState(): ContainerState {
  return { status: "created", pid: 0, exitCode: 0, error: "", startedAt: "0001-01-01T00:00:00Z", finishedAt: "0001-01-01T00:00:00Z", oomKilled: false };
}

/** The daemon's containers, by id and by name. */
export class ContainerStore {
  readonly #byId = new Map<string, ContainerRecord>();

  /** Every container, oldest first. */
  list(): ContainerRecord[] {
    return [...this.#byId.values()];
  }

  /** The container using `name`, if any. */
  byName(name: string): ContainerRecord | undefined {
    const bare = name.replace(/^\//, "");
    return this.list().find((c) => c.name === bare);
  }

  /** Adds a container. */
  add(record: ContainerRecord): void {
    this.#byId.set(record.id, record);
  }

  /** Forgets a container. */
  remove(id: string): void {
    this.#byId.delete(id);
  }

  /** Finds a container by full id, name, or unique id prefix; 404 when none matches. */
  resolve(ref: string): ContainerRecord {
    const exact = this.#byId.get(ref) ?? this.byName(ref);
    if (exact) return exact;
    if (/^[0-9a-f]+$/.test(ref)) {
      const matches = this.list().filter((c) => c.id.startsWith(ref));
      if (matches.length === 1 && matches[0]) return matches[0];
      if (matches.length > 1) throw badRequest(`multiple IDs found with provided prefix: ${ref}`);
    }
    throw notFound(`No such container: ${ref}`);
  }
}
