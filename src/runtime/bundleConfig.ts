/**
 * A bundle's config.json: read with an error that says what is wrong (no bundle folder, no config.json, unreadable,
 * not JSON), and written back atomically (temp file in the same folder, fsync, rename) with its mode and owner kept.
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../state/atomicWrite.js";
import type { OciSpec } from "./containerFromSpec.js";

/** The bundle or its config.json cannot be used; the real runtime is not called. */
export class BundleConfigError extends Error {
  override name = "BundleConfigError";
  /** The file or folder at fault. */
  readonly path: string;

  /** Creates the error for `path`; `problem` says what is wrong with it. */
  constructor(path: string, problem: string, cause?: unknown) {
    super(`${path} ${problem}`, cause === undefined ? undefined : { cause });
    this.path = path;
  }
}

/** A bundle's config.json as read. */
export interface BundleConfig {
  /** The file. */
  readonly path: string;
  /** Its text. */
  readonly text: string;
  /** Its content. */
  readonly spec: OciSpec;
  /** Its permission bits. */
  readonly mode: number;
  /** Its owner. */
  readonly uid: number;
  /** Its group. */
  readonly gid: number;
}

/** Reads `<bundle>/config.json`; throws BundleConfigError naming the file or folder and the problem. */
export async function readBundleConfig(bundle: string): Promise<BundleConfig> {
  const folder = await stat(bundle).catch((error: NodeJS.ErrnoException) => {
    throw new BundleConfigError(bundle, error.code === "ENOENT" ? "does not exist: no bundle to create the container from" : `cannot be read as the bundle folder (${error.message})`, error);
  });
  if (!folder.isDirectory()) throw new BundleConfigError(bundle, "is not a folder: the bundle must be a folder holding config.json");
  const path = join(bundle, "config.json");
  let text: string;
  let info;
  try {
    info = await stat(path);
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new BundleConfigError(path, code === "ENOENT" ? "does not exist: the bundle has no OCI spec" : `cannot be read (${(error as Error).message})`, error);
  }
  let spec: unknown;
  try {
    spec = JSON.parse(text);
  } catch (error) {
    throw new BundleConfigError(path, `is not valid JSON (${(error as Error).message}): the engine wrote a broken OCI spec`, error);
  }
  if (typeof spec !== "object" || spec === null || Array.isArray(spec)) throw new BundleConfigError(path, "does not hold a JSON object (an OCI runtime spec)");
  return { path, text, spec: spec as OciSpec, mode: info.mode & 0o7777, uid: info.uid, gid: info.gid };
}

/** Replaces the config.json of `config` by `text` atomically, keeping its mode, owner and group. */
export async function writeBundleConfig(config: BundleConfig, text: string): Promise<void> {
  try {
    await writeFileAtomic(config.path, text, { mode: config.mode, owner: { uid: config.uid, gid: config.gid } });
  } catch (error) {
    throw new BundleConfigError(config.path, `cannot be written (${(error as Error).message}); it was left as it was`, error);
  }
}
