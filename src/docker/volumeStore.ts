/**
 * The volume driver's state: one directory per volume under a root folder, Mount/Unmount counts per caller ID, and
 * the volume list in one JSON file written atomically, so it survives a restart. Mutations run one at a time.
 */
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { isDockerName } from "hookplugins/external";
import { writeFileAtomic } from "../state/atomicWrite.js";
import { SerialQueue } from "./serialQueue.js";

/** A request the volume store refuses (no such volume, a bad name, a volume in use, ...); the message says why. */
export class VolumeStoreError extends Error {
  override name = "VolumeStoreError";
}

/** One volume as the store keeps it. */
export interface VolumeRecord {
  /** The volume's name. */
  readonly name: string;
  /** The driver options it was created with (`-o key=value`). */
  readonly options: Readonly<Record<string, string>>;
  /** When it was created (RFC 3339). */
  readonly createdAt: string;
  /** How many Mount calls without their Unmount each caller ID has. */
  readonly mounts: Readonly<Record<string, number>>;
}

/** A volume as Docker's VolumeDriver API shows it (Get, List). */
export interface VolumeInfo {
  /** The volume's name. */
  readonly Name: string;
  /** The host directory holding its data. */
  readonly Mountpoint: string;
  /** When it was created (RFC 3339). */
  readonly CreatedAt: string;
  /** Driver status shown by `docker volume inspect`. */
  readonly Status: { readonly options: Readonly<Record<string, string>>; readonly mountedBy: number };
}

interface StateFile {
  readonly version: 1;
  readonly volumes: VolumeRecord[];
}

/** The file, under the root, that lists the volumes (volume names cannot start with a dot, so it cannot clash). */
export const volumeStateFileName = ".hookplugins-volumes.json";
const trashPrefix = ".trash-";

/** Throws a VolumeStoreError unless `name` is a valid volume name (Docker's rule, which also keeps it one path segment). */
export function checkVolumeName(name: unknown): asserts name is string {
  if (!isDockerName(name) || name.length > 255) {
    throw new VolumeStoreError(
      `invalid volume name ${JSON.stringify(name)}: use 1 to 255 characters from [a-zA-Z0-9_.-], starting with a letter or digit`,
    );
  }
}

function parseState(text: string, file: string): Map<string, VolumeRecord> {
  let data: Partial<StateFile>;
  try {
    data = JSON.parse(text) as Partial<StateFile>;
  } catch (error) {
    throw new VolumeStoreError(`the volume list ${file} is not valid JSON (${(error as Error).message}); restore it or move it away`);
  }
  if (data.version !== 1 || !Array.isArray(data.volumes)) {
    throw new VolumeStoreError(`the volume list ${file} is not a hookplugins volume list (version 1); restore it or move it away`);
  }
  return new Map(data.volumes.map((v) => [v.name, { name: v.name, options: v.options ?? {}, createdAt: v.createdAt, mounts: v.mounts ?? {} }]));
}

function mountCount(record: VolumeRecord): number {
  return Object.values(record.mounts).reduce((a, b) => a + b, 0);
}

/** The volumes of one driver, under one root folder. */
export class VolumeStore {
  readonly #queue = new SerialQueue();
  #volumes: Map<string, VolumeRecord>;

  private constructor(
    /** The folder holding one directory per volume and the volume list. */
    readonly root: string,
    volumes: Map<string, VolumeRecord>,
  ) {
    this.#volumes = volumes;
  }

  /** Opens (or starts) the store at `root`: reads the list, recreates missing volume directories, clears half-done removals. */
  static async open(root: string): Promise<VolumeStore> {
    await mkdir(root, { recursive: true });
    const file = join(root, volumeStateFileName);
    let volumes = new Map<string, VolumeRecord>();
    const text = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return undefined;
      throw error;
    });
    if (text !== undefined) volumes = parseState(text, file);
    const store = new VolumeStore(root, volumes);
    for (const entry of await readdir(root)) {
      if (!entry.startsWith(trashPrefix)) continue;
      // ".trash-<name>-<8 hex>": a crash between moving a volume aside and writing the list leaves it listed;
      // then its data goes back, else the trash is removed
      const name = entry.slice(trashPrefix.length, -9);
      if (volumes.has(name) && !existsSync(store.mountpoint(name))) await rename(join(root, entry), store.mountpoint(name));
      else await rm(join(root, entry), { recursive: true, force: true });
    }
    for (const name of volumes.keys()) await mkdir(store.mountpoint(name), { recursive: true });
    return store;
  }

  /** The state file's path. */
  get stateFile(): string {
    return join(this.root, volumeStateFileName);
  }

  /** The host directory of volume `name`. */
  mountpoint(name: string): string {
    return join(this.root, name);
  }

  #require(name: unknown): VolumeRecord {
    checkVolumeName(name);
    const record = this.#volumes.get(name);
    if (!record) throw new VolumeStoreError(`no such volume: ${name}`);
    return record;
  }

  /** Writes `next` as the volume list, then makes it the store's state (a failed write changes nothing). */
  async #commit(next: Map<string, VolumeRecord>): Promise<void> {
    const state: StateFile = { version: 1, volumes: [...next.values()] };
    await writeFileAtomic(this.stateFile, `${JSON.stringify(state, null, 2)}\n`);
    this.#volumes = next;
  }

  #info(record: VolumeRecord): VolumeInfo {
    return {
      Name: record.name,
      Mountpoint: this.mountpoint(record.name),
      CreatedAt: record.createdAt,
      Status: { options: record.options, mountedBy: Object.keys(record.mounts).length },
    };
  }

  /** Creates volume `name` with `options`; creating an existing volume with the same options again is a no-op. */
  create(name: string, options: Readonly<Record<string, string>> = {}): Promise<VolumeInfo> {
    return this.#queue.run(async () => {
      checkVolumeName(name);
      const existing = this.#volumes.get(name);
      if (existing) {
        if (JSON.stringify(existing.options) !== JSON.stringify(options)) {
          throw new VolumeStoreError(`volume ${name} already exists with other options (${JSON.stringify(existing.options)}); remove it first or use another name`);
        }
        return this.#info(existing);
      }
      const made = !existsSync(this.mountpoint(name));
      await mkdir(this.mountpoint(name), { recursive: true });
      const record: VolumeRecord = { name, options: { ...options }, createdAt: new Date().toISOString(), mounts: {} };
      const next = new Map(this.#volumes);
      next.set(name, record);
      try {
        await this.#commit(next);
      } catch (error) {
        if (made) await rm(this.mountpoint(name), { recursive: true, force: true });
        throw error;
      }
      return this.#info(record);
    });
  }

  /** Removes volume `name` and its data; refuses while any caller has it mounted. */
  remove(name: string): Promise<void> {
    return this.#queue.run(async () => {
      const record = this.#require(name);
      const users = Object.keys(record.mounts);
      if (users.length) {
        throw new VolumeStoreError(`volume ${name} is in use by ${users.length} container${users.length === 1 ? "" : "s"} (${users.map((id) => id.slice(0, 12)).join(", ")}); remove them first`);
      }
      // move the data aside first, so that a crash leaves either the volume or nothing, never half a directory
      const trash = join(this.root, `${trashPrefix}${name}-${randomBytes(4).toString("hex")}`);
      if (existsSync(this.mountpoint(name))) await rename(this.mountpoint(name), trash);
      const next = new Map(this.#volumes);
      next.delete(name);
      try {
        await this.#commit(next);
      } catch (error) {
        await rename(trash, this.mountpoint(name)).catch(() => undefined);
        throw error;
      }
      await rm(trash, { recursive: true, force: true });
    });
  }

  /** Counts one Mount of volume `name` by caller `id`; resolves with its host directory. */
  mount(name: string, id: string): Promise<string> {
    return this.#queue.run(async () => {
      const record = this.#require(name);
      if (typeof id !== "string" || id === "") throw new VolumeStoreError(`Mount of volume ${name} needs the caller's ID`);
      const next = new Map(this.#volumes);
      next.set(name, { ...record, mounts: { ...record.mounts, [id]: (record.mounts[id] ?? 0) + 1 } });
      await mkdir(this.mountpoint(name), { recursive: true });
      await this.#commit(next);
      return this.mountpoint(name);
    });
  }

  /** Undoes one Mount of volume `name` by caller `id` (an ID with no Mount left is ignored). */
  unmount(name: string, id: string): Promise<void> {
    return this.#queue.run(async () => {
      const record = this.#require(name);
      const count = record.mounts[id];
      if (count === undefined) return;
      const mounts = { ...record.mounts };
      if (count > 1) mounts[id] = count - 1;
      else delete mounts[id];
      const next = new Map(this.#volumes);
      next.set(name, { ...record, mounts });
      await this.#commit(next);
    });
  }

  /** Volume `name`, or undefined when there is none. */
  get(name: string): VolumeInfo | undefined {
    checkVolumeName(name);
    const record = this.#volumes.get(name);
    return record && this.#info(record);
  }

  /** Every volume, in creation order. */
  list(): VolumeInfo[] {
    return [...this.#volumes.values()].map((record) => this.#info(record));
  }

  /** The record of volume `name` (options and mount counts), or undefined. */
  record(name: string): VolumeRecord | undefined {
    return this.#volumes.get(name);
  }

  /** How many Mount calls of volume `name` have no Unmount yet (0 when there is no such volume). */
  mountCount(name: string): number {
    const record = this.#volumes.get(name);
    return record ? mountCount(record) : 0;
  }

  /** Resolves once every mutation queued so far has settled. */
  idle(): Promise<void> {
    return this.#queue.run(async () => undefined);
  }
}
