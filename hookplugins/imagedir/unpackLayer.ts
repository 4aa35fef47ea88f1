/**
 * Applies one image layer (its tar entries) on top of a root filesystem folder: OCI whiteouts first (`.wh.<name>`
 * removes a lower layer's file, `.wh..wh..opq` empties a lower layer's folder), then the entries. An entry whose
 * path leaves the folder or passes through a symlink is refused, so a layer can never write outside the root.
 */
import { chmod, lchown, link, lstat, mkdir, readdir, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { posix } from "node:path";
import type { TarEntry } from "./tarReader.js";

/** A layer entry imagedir will not write (a path outside the root, through a symlink, or a bad hardlink). */
export class UnsafeLayerEntryError extends Error {
  override name = "UnsafeLayerEntryError";
}

const whiteoutPrefix = ".wh.";
const opaqueMarker = ".wh..wh..opq";

/** `path` as a clean relative path inside the root; throws for one that leaves it. */
function inside(path: string): string {
  const clean = posix.normalize(path.replace(/^\/+/, ""));
  if (clean === ".." || clean.startsWith("../")) throw new UnsafeLayerEntryError(`entry "${path}" points outside the root filesystem`);
  return clean === "." ? "" : clean;
}

async function lstatOrUndefined(path: string): Promise<Awaited<ReturnType<typeof lstat>> | undefined> {
  try {
    return await lstat(path);
  } catch {
    return undefined;
  }
}

/**
 * The absolute path of `relative` under `root`, after checking that no folder on the way is a symlink. Folders the
 * layer has no entries for are made when `make` (a tar archive need not list them), and a file where a folder must
 * be is then replaced; without `make` (whiteouts, a hardlink's source) nothing on the way is changed.
 */
async function target(root: string, relative: string, make = true): Promise<string> {
  const parts = relative.split("/").filter(Boolean);
  let at = root;
  for (const part of parts.slice(0, -1)) {
    at = posix.join(at, part);
    const stat = await lstatOrUndefined(at);
    if (stat?.isSymbolicLink()) throw new UnsafeLayerEntryError(`entry "${relative}" passes through the symlink "${posix.relative(root, at)}"`);
    if (stat?.isDirectory() || !make) continue;
    if (stat) await rm(at, { force: true });
    await mkdir(at, { mode: 0o755 });
  }
  return posix.join(root, ...parts);
}

async function applyWhiteouts(root: string, entries: readonly TarEntry[]): Promise<void> {
  for (const entry of entries) {
    const path = inside(entry.path);
    const base = posix.basename(path);
    if (!base.startsWith(whiteoutPrefix)) continue;
    const dir = await target(root, path, false);
    const parent = posix.dirname(dir);
    if (base === opaqueMarker) {
      for (const name of await readdir(parent).catch(() => [] as string[])) await rm(posix.join(parent, name), { recursive: true, force: true });
    } else {
      await rm(posix.join(parent, base.slice(whiteoutPrefix.length)), { recursive: true, force: true });
    }
  }
}

/**
 * Writes `entries` (one layer) into `root`. Ownership is kept when running as root; devices and fifos are left
 * out (a daemon that needs them creates them in the container's /dev). Folder modes are set last, so a read-only
 * folder can still be filled.
 */
export async function unpackLayer(root: string, entries: readonly TarEntry[]): Promise<void> {
  await applyWhiteouts(root, entries);
  const asRoot = process.getuid?.() === 0;
  const folders: Array<{ path: string; entry: TarEntry }> = [];
  for (const entry of entries) {
    const relative = inside(entry.path);
    if (relative === "" && entry.type === "directory") continue;
    if (posix.basename(relative).startsWith(whiteoutPrefix) || entry.type === "other") continue;
    const path = await target(root, relative);
    const existing = await lstatOrUndefined(path);
    if (existing && !(existing.isDirectory() && entry.type === "directory")) await rm(path, { recursive: true, force: true });
    if (entry.type === "directory") {
      await mkdir(path, { recursive: true });
      folders.push({ path, entry });
      continue;
    }
    if (entry.type === "symlink") await symlink(entry.linkname, path);
    else if (entry.type === "hardlink") {
      const source = await target(root, inside(entry.linkname), false);
      if (!(await lstatOrUndefined(source))?.isFile()) throw new UnsafeLayerEntryError(`hardlink "${relative}" points at "${entry.linkname}", which is not a file of the image`);
      await link(source, path);
      continue;
    } else {
      await writeFile(path, entry.data, { mode: entry.mode });
      await chmod(path, entry.mode);
      await utimes(path, entry.mtime, entry.mtime);
    }
    if (asRoot) await lchown(path, entry.uid, entry.gid);
  }
  for (const { path, entry } of folders.reverse()) {
    if (asRoot) await lchown(path, entry.uid, entry.gid);
    await chmod(path, entry.mode);
    await utimes(path, entry.mtime, entry.mtime);
  }
}
