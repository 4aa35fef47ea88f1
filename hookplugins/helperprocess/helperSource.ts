/**
 * A copy of helper.js, run with `node --input-type=module -e` when a host bundled this plugin away from helper.js
 * (e.g. into dist/). test/plugins/helperprocess.test.ts keeps it equal to helper.js.
 */

/** The text of helper.js. */
export const helperSource = String.raw`#!/usr/bin/env node
// The default helper process of the helperprocess plugin, run as "node helper.js".
// It serves a status line on a unix socket, prints "ready pid=<pid> socket=<path>" once it listens,
// and exits (removing its socket and pid file) on SIGTERM, SIGINT, or when its stdin closes (its parent is gone).
// Environment: HOOKPLUGINS_HELPER_SOCKET (socket path; default <tmpdir>/hookplugins-helper-<pid>.sock),
// HOOKPLUGINS_HELPER_PIDFILE (optional file that holds the pid while the helper runs).
// helperSource.ts holds a copy of this text for bundled hosts (no template literals here, so the copy stays verbatim).
import { rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const socketPath = process.env.HOOKPLUGINS_HELPER_SOCKET || join(tmpdir(), "hookplugins-helper-" + process.pid + ".sock");
const pidFile = process.env.HOOKPLUGINS_HELPER_PIDFILE;
const startedAt = Date.now();
let served = 0;

const server = createServer((socket) => {
  served += 1;
  socket.end(JSON.stringify({ pid: process.pid, uptimeMs: Date.now() - startedAt, served: served }) + "\n");
});

function cleanUp() {
  rmSync(socketPath, { force: true });
  if (pidFile) rmSync(pidFile, { force: true });
}

function shutDown() {
  server.close();
  cleanUp();
  process.exit(0);
}

process.on("SIGTERM", shutDown);
process.on("SIGINT", shutDown);
process.stdin.on("end", shutDown);
process.stdin.on("error", shutDown);
process.stdin.resume();

server.on("error", (error) => {
  process.stderr.write("helper: cannot listen on " + socketPath + ": " + error.message + "\n");
  cleanUp();
  process.exit(1);
});

rmSync(socketPath, { force: true });
server.listen(socketPath, () => {
  if (pidFile) writeFileSync(pidFile, process.pid + "\n");
  process.stdout.write("ready pid=" + process.pid + " socket=" + socketPath + "\n");
});
`;
