/**
 * minid's command line: --socket, --state-dir, --dry-run, --runc.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

/** Parsed command line options. */
export interface MinidArgs {
  /** UNIX socket path. */
  socketPath: string;
  /** State directory. */
  stateDir: string;
  /** Force dry-run mode (otherwise chosen automatically). */
  dryRun: boolean | "auto";
  /** runc binary. */
  runc: string;
  /** Print usage and exit. */
  help: boolean;
}

/** Usage text. */
export const usage = `usage: minid [--socket PATH] [--state-dir DIR] [--dry-run] [--runc PATH]
  --socket PATH     UNIX socket to serve the Engine API on (default: <state-dir>/minid.sock)
  --state-dir DIR   where images, containers and volumes live (default: $TMPDIR/minid)
  --dry-run         never run runc: write OCI bundles and print what would run
  --runc PATH       runc binary (default: runc on PATH)
Point the docker CLI at it with DOCKER_HOST=unix://<socket>.
SIGINT or SIGTERM stops minid cleanly (containers killed, stop hooks run, socket removed), also while it starts;
more signals during shutdown are ignored, and the third in all force-quits (exit 128+signal, stop hooks skipped).`;

/** Parses `argv` (without node and script). */
export function parseMinidArgs(argv: readonly string[]): MinidArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      socket: { type: "string" },
      "state-dir": { type: "string" },
      "dry-run": { type: "boolean", default: false },
      runc: { type: "string", default: "runc" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  const stateDir = values["state-dir"] ?? join(tmpdir(), "minid");
  return {
    socketPath: values.socket ?? join(stateDir, "minid.sock"),
    stateDir,
    dryRun: values["dry-run"] ? true : "auto",
    runc: values.runc ?? "runc",
    help: values.help ?? false,
  };
}
