/**
 * The wrapper runs as root, called by the engine: every file it runs or reads code or hooks from (the script, the
 * plugin step, node, the real runtime, the hand-off folder, the state file) and every folder above them must be
 * writable by root alone, or whoever can write them runs code as root. A folder that others may write is accepted
 * only with the sticky bit (like /tmp) and when the entry below it belongs to root: others cannot rename or replace it.
 * The user running the wrapper counts as root (a rootless engine calls it as that user).
 */
import { lstat, realpath, stat } from "node:fs/promises";
import type { Stats } from "node:fs";
import { dirname } from "node:path";

/** A file or folder the wrapper would trust is writable by someone other than root; the message says how to fix it. */
export class UntrustedPathError extends Error {
  override name = "UntrustedPathError";
  /** The file or folder at fault. */
  readonly path: string;
  /** What the wrapper uses it for ("the plugin step", ...). */
  readonly what: string;

  /** Creates the error for `path` (on the way to `what`): `problem` says why, `fix` what to run. */
  constructor(what: string, path: string, problem: string, fix: string) {
    super(`refusing to run: ${path} (on the way to ${what}) ${problem}, so users other than root could change what runs as root; fix: ${fix}`);
    this.path = path;
    this.what = what;
  }
}

/** The users whose files count as root's: root, and the user this process runs as. */
export function trustedUids(): readonly number[] {
  const me = process.geteuid?.();
  return me === undefined || me === 0 ? [0] : [0, me];
}

function octal(mode: number): string {
  return `0${(mode & 0o7777).toString(8)}`;
}

/** `path` and every folder above it, the path first. */
function chain(path: string): string[] {
  const paths = [path];
  for (let p = path; dirname(p) !== p; p = dirname(p)) paths.push(dirname(p));
  return paths;
}

/** Checks one chain of (path, stats) pairs, the target first; throws UntrustedPathError at the first problem. */
function checkChain(what: string, entries: readonly { path: string; info: Stats }[], uids: readonly number[]): void {
  entries.forEach(({ path, info }, i) => {
    if (!uids.includes(info.uid)) {
      throw new UntrustedPathError(what, path, `belongs to uid ${info.uid}`, `chown root:root ${path} && chmod go-w ${path}, or install the wrapper where only root can write (hookplugins runtime install --out <path>)`);
    }
    if (info.isSymbolicLink() || (info.mode & 0o022) === 0) return;
    const below = entries[i - 1];
    const sticky = info.isDirectory() && (info.mode & 0o1000) !== 0 && below !== undefined && uids.includes(below.info.uid);
    if (!sticky) {
      throw new UntrustedPathError(what, path, `is writable by its group or by others (mode ${octal(info.mode)})`, `chmod go-w ${path}, or install the wrapper where only root can write (hookplugins runtime install --out <path>)`);
    }
  });
}

/**
 * Throws UntrustedPathError when `path` (which must exist), a folder above it, or, when symbolic links are on the way,
 * the file they lead to or a folder above that, may be written by a user other than root.
 */
export async function checkTrustedPath(what: string, path: string, uids: readonly number[] = trustedUids()): Promise<void> {
  const lexical = await Promise.all(chain(path).map(async (p) => ({ path: p, info: await lstat(p) })));
  checkChain(what, lexical, uids);
  if (lexical.some((e) => e.info.isSymbolicLink())) {
    const real = await realpath(path);
    checkChain(what, await Promise.all(chain(real).map(async (p) => ({ path: p, info: await stat(p) }))), uids);
  }
}

/** Like checkTrustedPath for a path that may not exist yet: checks it when it exists, else the nearest folder above it. */
export async function checkTrustedPlace(what: string, path: string, uids: readonly number[] = trustedUids()): Promise<void> {
  for (let p = path; ; p = dirname(p)) {
    const exists = await lstat(p).then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT") return false;
        throw error;
      },
    );
    if (exists) return checkTrustedPath(what, p, uids);
    if (dirname(p) === p) return;
  }
}
