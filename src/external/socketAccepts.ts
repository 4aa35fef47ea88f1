/**
 * Probing a UNIX socket: whether something accepts connections on it (a plugin that has started, or a live server
 * still holding a socket path).
 */
import { connect } from "node:net";

/** Whether something accepts connections on the UNIX socket at `path` (false for a missing or stale socket). */
export function socketAccepts(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
