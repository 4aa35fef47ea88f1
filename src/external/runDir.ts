/**
 * The runtime folder of a host's executable plugins (their sockets and pid files, mode 0700): the folder the host is
 * given (`runDir`), or a new temp folder `hookplugins-run-*` per host. Each is marked with the host that owns it, so
 * that a later host can tell the folders of hosts that are gone from those of hosts that still run.
 */
import { chmod, lstat, mkdir, mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { writeHostFile } from "./pidFiles.js";

/** The name prefix of a host's temp runtime folder. */
export const tempRunDirPrefix = "hookplugins-run-";

/** Makes the runtime folder (`fixed`, or a new temp folder), mode 0700, marked with this host; resolves with its path. */
export async function makeRunDir(fixed: string | undefined): Promise<string> {
  let dir: string;
  if (fixed !== undefined) {
    dir = resolve(fixed);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
  } else {
    dir = await mkdtemp(join(tmpdir(), tempRunDirPrefix));
  }
  await writeHostFile(dir);
  return dir;
}

/**
 * The runtime folders earlier hosts may have left plugins in: `fixed` itself when the host is given one, else the
 * temp folders `hookplugins-run-*` that belong to this user.
 */
export async function earlierRunDirs(fixed: string | undefined): Promise<string[]> {
  if (fixed !== undefined) return [resolve(fixed)];
  const tmp = tmpdir();
  let names: string[];
  try {
    names = await readdir(tmp);
  } catch {
    return [];
  }
  const uid = process.getuid?.();
  const dirs: string[] = [];
  for (const name of names.filter((n) => n.startsWith(tempRunDirPrefix))) {
    const dir = join(tmp, name);
    try {
      const info = await lstat(dir);
      if (info.isDirectory() && info.uid === uid) dirs.push(dir);
    } catch {
      // removed meanwhile
    }
  }
  return dirs;
}
