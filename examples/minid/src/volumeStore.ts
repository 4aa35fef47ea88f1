/**
 * Local volumes: a directory per volume under the state dir, as the Engine's "local" driver keeps them.
 */
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { VolumeCreateConfig } from "hookplugins";
import { volumeDataDir } from "./binds.js";
import { badRequest, notFound } from "./httpErrors.js";
import { newId, validName } from "./ids.js";

/** A volume as the Engine API returns it. */
export interface Volume {
  Name: string;
  Driver: string;
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string>;
  Options: Record<string, string>;
  Scope: "local";
}

/** The daemon's volumes. */
export class VolumeStore {
  readonly #dir: string;
  readonly #volumes = new Map<string, Volume>();

  /** A store keeping volumes under `dir`. */
  constructor(dir: string) {
    this.#dir = dir;
  }

  /** Loads the volumes already on disk. */
  async load(): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    for (const name of await readdir(this.#dir)) {
      try {
        this.#volumes.set(name, JSON.parse(await readFile(join(this.#dir, name, "volume.json"), "utf8")) as Volume);
      } catch {
        // not a volume directory
      }
    }
  }

  /** Every volume. */
  list(): Volume[] {
    return [...this.#volumes.values()];
  }

  /** The volume `name`; 404 when unknown. */
  get(name: string): Volume {
    const volume = this.#volumes.get(name);
    if (!volume) throw notFound(`get ${name}: no such volume`);
    return volume;
  }

  /** Creates the volume `config` describes, or returns the existing one of that name. */
  async create(config: VolumeCreateConfig): Promise<Volume> {
    const name = config.Name || newId();
    const driver = config.Driver || "local";
    if (!validName.test(name)) {
      throw badRequest(`create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed`);
    }
    if (driver !== "local") throw notFound(`error looking up volume plugin ${driver}: plugin "${driver}" not found`);
    const existing = this.#volumes.get(name);
    if (existing) return existing;
    const volume: Volume = {
      Name: name,
      Driver: driver,
      Mountpoint: volumeDataDir(this.#dir, name),
      CreatedAt: new Date().toISOString(),
      Labels: config.Labels ?? {},
      Options: config.DriverOpts ?? {},
      Scope: "local",
    };
    await mkdir(volume.Mountpoint, { recursive: true });
    await writeFile(join(this.#dir, name, "volume.json"), JSON.stringify(volume, null, 2));
    this.#volumes.set(name, volume);
    return volume;
  }
}
