/**
 * minid's command line: --socket, --state-dir, --dry-run, --runc, and the external plugin folders.
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
  /** Folders of external plugin sockets (`<name>.sock`, `<name>/<name>.sock`). */
  pluginSocketDirs: string[];
  /** Folders of external plugin spec files (`<name>.spec`, `<name>.json`). */
  pluginSpecDirs: string[];
  /** Folders of executable plugins. */
  pluginExecDirs: string[];
}

/** Usage text. */
export const usage = `usage: minid [--socket PATH] [--state-dir DIR] [--dry-run] [--runc PATH]
  --socket PATH     UNIX socket to serve the Engine API on (default: <state-dir>/minid.sock)
  --state-dir DIR   where images, containers and volumes live (default: $TMPDIR/minid)
  --dry-run         never run runc: write OCI bundles and print what would run
  --runc PATH       runc binary (default: runc on PATH)
  --plugin-socket-dir DIR  load external plugins from the sockets in DIR (repeatable)
  --plugin-spec-dir DIR    load external plugins from the spec files in DIR (repeatable)
  --plugin-exec-dir DIR    load executable plugins from DIR, started on first use (repeatable)
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
      "plugin-socket-dir": { type: "string", multiple: true, default: [] },
      "plugin-spec-dir": { type: "string", multiple: true, default: [] },
      "plugin-exec-dir": { type: "string", multiple: true, default: [] },
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
    pluginSocketDirs: values["plugin-socket-dir"] ?? [],
    pluginSpecDirs: values["plugin-spec-dir"] ?? [],
    pluginExecDirs: values["plugin-exec-dir"] ?? [],
  };
}
