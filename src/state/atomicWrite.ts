/**
 * Writes a file so that readers see either the old content or the new content, never a partial file.
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** What the new file gets besides its content. */
export interface AtomicWriteOptions {
  /** Its permission bits, set exactly (the umask does not apply); default: 0666 less the umask. */
  readonly mode?: number;
  /** Its owner and group (changed only when they differ from the writer's, which needs root). */
  readonly owner?: { readonly uid: number; readonly gid: number };
}

/** Writes `data` to a temporary file next to `path`, flushes it to disk, then renames it over `path`. */
export async function writeFileAtomic(path: string, data: string, options: AtomicWriteOptions = {}): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const handle = await open(temp, "wx", options.mode ?? 0o666);
  try {
    try {
      if (options.mode !== undefined) await handle.chmod(options.mode);
      const { owner } = options;
      if (owner && (owner.uid !== process.geteuid?.() || owner.gid !== process.getegid?.())) await handle.chown(owner.uid, owner.gid);
      await handle.writeFile(data, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
