/**
 * The host pipe rule of docs/PROTOCOL.md, the plugin's side: a host that starts a plugin process gives it a pipe as
 * stdin, holds the other end open for its whole life and never writes to it, and sets HOOKPLUGINS_HOST_PIPE=stdin.
 * End-of-file on that stdin means the host is gone (even after SIGKILL: the kernel closes the host's end), and the
 * plugin then stops. Without the variable, or when stdin is not a pipe (a terminal, /dev/null under systemd), stdin
 * means nothing and is left alone.
 */
import { fstatSync } from "node:fs";

/** The environment variable a host sets on a plugin process it starts under the host pipe rule. */
export const hostPipeVariable = "HOOKPLUGINS_HOST_PIPE";

/** The variable's value saying that the host pipe is the process's stdin (the only value defined so far). */
export const hostPipeOnStdin = "stdin";

/** Whether this process was started under the host pipe rule: the variable says stdin, and stdin is a pipe or a socket. */
export function startedUnderHostPipe(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env[hostPipeVariable] !== hostPipeOnStdin) return false;
  try {
    const stdin = fstatSync(0);
    // Node hosts give a socketpair, most other languages a pipe
    return stdin.isFIFO() || stdin.isSocket();
  } catch {
    return false; // stdin is closed
  }
}

/**
 * Calls `onGone` once when the host pipe ends (end-of-file, or an error reading it), when this process was started
 * under the rule; returns a function that stops watching (and no longer keeps the process alive). Anything the host
 * writes is read and ignored: the rule reserves the pipe, the host writes nothing.
 */
export function watchHostPipe(onGone: () => void): () => void {
  if (!startedUnderHostPipe()) return () => undefined;
  const stdin = process.stdin;
  const ignore = (): void => undefined;
  let watching = true;
  const stop = (): void => {
    if (!watching) return;
    watching = false;
    stdin.off("data", ignore).off("end", gone).off("error", gone).off("close", gone);
    stdin.pause();
  };
  function gone(): void {
    if (!watching) return;
    stop();
    onGone();
  }
  // the no-op error listener stays after stop(): a late read error must not end the process
  stdin.on("error", ignore).on("data", ignore).once("end", gone).once("error", gone).once("close", gone);
  return stop;
}

/** How long a plugin whose host is gone waits for its server to close before it exits anyway, in ms. */
export const hostGoneExitMs = 1000;

/**
 * Under the host pipe rule: when the host is gone, runs `close` (stop serving, remove the socket) and then ends the
 * process (status 0), after at most `limitMs` even if `close` has not finished. Returns the function that stops
 * watching, for a server closed otherwise. Does nothing when this process was not started under the rule.
 */
export function exitWhenHostGone(close: () => Promise<unknown>, limitMs = hostGoneExitMs): () => void {
  return watchHostPipe(() => {
    const exit = (): never => process.exit(0);
    setTimeout(exit, limitMs);
    void close().then(exit, exit);
  });
}
