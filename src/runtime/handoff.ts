/**
 * The prestart hand-off: the Docker API proxy runs `ContainerPlugin.preStart` when a container is started through it
 * (it has the engine's full inspect of the container), and leaves the plugins' hooks for the OCI runtime wrapper,
 * which merges them into the bundle's config.json when the engine creates the container. One JSON file per
 * container, named by its full id, in a folder only root can read (mode 0700, files 0600). A hand-off is used once:
 * the wrapper takes it (reads and removes it) at `create`; a later create of the same container without a new
 * hand-off (a restart by the engine itself) makes the wrapper run preStart on its own.
 *
 * File format (`<dir>/<id>.json`, UTF-8 JSON):
 *
 *     { "version": 1, "id": "<64 hex>", "createdAt": "<ISO 8601>", "source": "docker-proxy",
 *       "hooks": [ { "priority": 10, "path": "/abs/hook", "args": ["a"], "env": ["K=v"], "timeout": 5 } ] }
 *
 * `hooks` is the plugins' merged list (priority descending, plugin order at equal priority), in the library's
 * `PrestartHook` form: `args` are the arguments after the program (`toOciHooks` adds `path` as `args[0]`).
 */
import { chmod, mkdir, readdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { PrestartHook } from "hookplugins";
import { checkPrestartHook } from "../dispatch/prestartHooks.js";
import { writeFileAtomic } from "../state/atomicWrite.js";

/** Where the proxy leaves hand-offs and the wrapper looks for them, unless configured otherwise. */
export const defaultHandoffDir = "/run/hookplugins/prestart";

/** The one format version this library writes and reads. */
export const handoffVersion = 1;

/** One container's prestart hooks, as the proxy leaves them for the runtime wrapper. */
export interface PrestartHandoff {
  /** Format version (1). */
  readonly version: 1;
  /** The container's full id (64 lowercase hex digits for Docker and Podman). */
  readonly id: string;
  /** When the proxy ran preStart (ISO 8601). */
  readonly createdAt: string;
  /** Who wrote it, e.g. "docker-proxy". */
  readonly source: string;
  /** The plugins' hooks, in merged order. */
  readonly hooks: readonly PrestartHook[];
}

/** A hand-off file that cannot be used: unreadable, not JSON, or not in the format above. */
export class HandoffError extends Error {
  override name = "HandoffError";
  /** The file. */
  readonly path: string;

  /** Creates the error for `path`. */
  constructor(path: string, why: string, cause?: unknown) {
    super(`prestart hand-off ${path} ${why}`, cause === undefined ? undefined : { cause });
    this.path = path;
  }
}

const idPattern = /^[0-9A-Za-z][0-9A-Za-z_.-]{0,127}$/;

/** The file of container `id` in `dir`; throws for an id that could name anything but one file in `dir`. */
export function handoffPath(dir: string, id: string): string {
  if (!idPattern.test(id)) throw new HandoffError(join(dir, "?"), `cannot be named after container id ${JSON.stringify(id)}: not a container id`);
  return join(dir, `${id}.json`);
}

/** Makes `dir` (mode 0700) if needed, and checks that it is a folder only its owner can use. */
async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const info = await stat(dir);
  if (!info.isDirectory()) throw new HandoffError(dir, "is not a folder");
  if ((info.mode & 0o077) !== 0) await chmod(dir, 0o700);
}

/** Writes `handoff` atomically (temp file, fsync, rename) as `<dir>/<id>.json`, mode 0600, in a 0700 folder. */
export async function writeHandoff(dir: string, handoff: PrestartHandoff): Promise<string> {
  const path = handoffPath(dir, handoff.id);
  await ensurePrivateDir(dir);
  await writeFileAtomic(path, `${JSON.stringify(handoff)}\n`, { mode: 0o600 });
  return path;
}

/** Reads and checks the hand-off of container `id`; undefined when there is none. */
export async function readHandoff(dir: string, id: string): Promise<PrestartHandoff | undefined> {
  const path = handoffPath(dir, id);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new HandoffError(path, `cannot be read: ${(error as Error).message}`, error);
  }
  let data: Partial<PrestartHandoff>;
  try {
    data = JSON.parse(text) as Partial<PrestartHandoff>;
  } catch (error) {
    throw new HandoffError(path, `is not valid JSON (${(error as Error).message}); delete it, and start the container again`, error);
  }
  if (data === null || typeof data !== "object" || data.version !== handoffVersion) {
    throw new HandoffError(path, `has version ${JSON.stringify((data as { version?: unknown } | null)?.version)}, this library reads version ${handoffVersion}; delete it, and start the container again`);
  }
  if (data.id !== id) throw new HandoffError(path, `is for container ${JSON.stringify(data.id)}, not ${id}`);
  if (!Array.isArray(data.hooks)) throw new HandoffError(path, "has no hooks list");
  let hooks: PrestartHook[];
  try {
    hooks = data.hooks.map((hook: unknown, i) => checkPrestartHook(hook, `hooks[${i}]`));
  } catch (error) {
    throw new HandoffError(path, `is not valid: ${(error as Error).message}`, error);
  }
  return { ...(data as PrestartHandoff), hooks };
}

/** Reads the hand-off of container `id` and removes it (it is used once); undefined when there is none. */
export async function takeHandoff(dir: string, id: string): Promise<PrestartHandoff | undefined> {
  const handoff = await readHandoff(dir, id);
  if (handoff !== undefined) await rm(handoffPath(dir, id), { force: true });
  return handoff;
}

/** Removes the hand-off of container `id`, if any. */
export async function removeHandoff(dir: string, id: string): Promise<void> {
  await rm(handoffPath(dir, id), { force: true });
}

/** Removes hand-offs (and temp files) older than `maxAgeMs`: left by starts that never reached the runtime. */
export async function sweepHandoffs(dir: string, maxAgeMs: number, now = Date.now()): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.endsWith(".json") && !name.endsWith(".tmp")) continue;
    const path = join(dir, name);
    const info = await stat(path).catch(() => undefined);
    if (info && now - info.mtimeMs > maxAgeMs) {
      await rm(path, { force: true });
      removed.push(path);
    }
  }
  return removed;
}
