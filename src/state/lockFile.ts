/**
 * An exclusive lock between processes: a lock file created with O_EXCL, retried with backoff, taken over when stale.
 */
import { mkdir, open, readFile, rm, stat } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname } from "node:path";

/** How long to wait for a lock and when to consider a held one abandoned. */
export interface LockOptions {
  /** Give up after this many milliseconds (default 10000). */
  readonly timeoutMs?: number;
  /** A lock file older than this many milliseconds is treated as abandoned (default 30000). */
  readonly staleMs?: number;
}

/** The lock could not be taken in time. */
export class LockTimeoutError extends Error {
  override name = "LockTimeoutError";
  /** The lock file that stayed held. */
  readonly lockPath: string;

  /** Creates the error for `lockPath` after `timeoutMs`. */
  constructor(lockPath: string, timeoutMs: number) {
    super(`could not lock ${lockPath} within ${timeoutMs} ms: another hookplugins process holds it; if none is running, delete the lock file`);
    this.lockPath = lockPath;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function processIsGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/** The inode of the lock file when it is abandoned (its owner process is gone, or it is too old), else undefined. */
async function staleInode(lockPath: string, staleMs: number): Promise<number | undefined> {
  try {
    const info = await stat(lockPath);
    if (Date.now() - info.mtimeMs > staleMs) return info.ino;
    const owner = JSON.parse((await readFile(lockPath, "utf8")) || "{}") as { pid?: number; host?: string };
    if (owner.host === hostname() && typeof owner.pid === "number" && processIsGone(owner.pid)) return info.ino;
    return undefined;
  } catch {
    // Vanished meanwhile, or half-written by its owner: not stale.
    return undefined;
  }
}

/** Removes an abandoned lock file, unless another process replaced it since it was judged. */
async function removeStale(lockPath: string, inode: number): Promise<void> {
  try {
    if ((await stat(lockPath)).ino === inode) await rm(lockPath, { force: true });
  } catch {
    // Already gone.
  }
}

/** Runs `fn` while holding the exclusive lock file `lockPath`; the lock is released when `fn` settles. */
export async function withLock<T>(lockPath: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const staleMs = options.staleMs ?? 30_000;
  await mkdir(dirname(lockPath), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  for (;;) {
    try {
      const handle = await open(lockPath, "wx");
      try {
        await handle.writeFile(JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }));
      } finally {
        await handle.close();
      }
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const inode = await staleInode(lockPath, staleMs);
      if (inode !== undefined) {
        await removeStale(lockPath, inode);
        continue;
      }
      if (Date.now() >= deadline) throw new LockTimeoutError(lockPath, timeoutMs);
      await sleep(delay + Math.random() * delay);
      delay = Math.min(delay * 2, 200);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lockPath, { force: true });
  }
}
