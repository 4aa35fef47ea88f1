/**
 * Listening on a UNIX socket file safely: a stale socket left by a dead process is removed, a live one (another
 * process serves it) is refused, and the new socket never has a wider mode than asked, not even for an instant (the
 * umask is tightened around the bind, which Node performs synchronously inside `listen`).
 */
import { chmod, chown, lstat, rm } from "node:fs/promises";
import type { Server } from "node:net";
import { socketAccepts } from "./socketAccepts.js";

/** A socket path that cannot be used. */
export class SocketFileError extends Error {
  override name = "SocketFileError";
}

/** Removes `path` if it is a socket nobody answers on; throws when it is not a socket, or a live process serves it. */
export async function removeStaleSocket(path: string): Promise<void> {
  try {
    const info = await lstat(path);
    if (!info.isSocket()) throw new SocketFileError(`${path} exists and is not a socket; remove it or choose another path`);
    if (await socketAccepts(path)) throw new SocketFileError(`${path}: another process already serves this socket; stop it or choose another path`);
    await rm(path, { force: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

/** Options of listenOnSocket. */
export interface SocketFileOptions {
  /** The socket file's mode (default 0600). */
  readonly mode?: number;
  /** The group the socket file is given (the mode's group bits then apply to it). */
  readonly gid?: number;
  /** Connections the kernel queues before they are accepted (default 1024). */
  readonly backlog?: number;
}

/** Makes `server` listen on the socket file `path` with `options.mode` (and group), after removing a stale one. */
export async function listenOnSocket(server: Server, path: string, options: SocketFileOptions = {}): Promise<void> {
  const mode = options.mode ?? 0o600;
  await removeStaleSocket(path);
  await new Promise<void>((resolve, reject) => {
    const failed = (error: Error): void => reject(error);
    server.once("error", failed);
    const previous = process.umask(0o777 & ~mode & 0o777);
    try {
      // a backlog for bursts of clients (Node's default is 511; the docker CLI and compose open many at once)
      server.listen({ path, backlog: options.backlog ?? 1024 }, () => {
        server.off("error", failed);
        resolve();
      });
    } finally {
      process.umask(previous);
    }
  });
  if (options.gid !== undefined) await chown(path, -1, options.gid);
  await chmod(path, mode);
}
