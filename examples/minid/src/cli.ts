/**
 * minid's command line: its built-in commands (serve, help) as plain data, the daemon's options (--socket,
 * --state-dir, --dry-run, --runc, the external plugin folders), and the help text written from the command list.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { commandHelp } from "./commandLine.js";
import type { CliCommandSpec } from "hookplugins";

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

/** The options of `minid serve` (the daemon), as help shows them. */
const serveHelp = `serve options:
  --socket PATH     UNIX socket to serve the Engine API on (default: <state-dir>/minid.sock)
  --state-dir DIR   where images, containers and volumes live (default: $TMPDIR/minid)
  --dry-run         never run runc: write OCI bundles and print what would run
  --runc PATH       runc binary (default: runc on PATH)
  --plugin-socket-dir DIR  load external plugins from the sockets in DIR (repeatable)
  --plugin-spec-dir DIR    load external plugins from the spec files in DIR (repeatable)
  --plugin-exec-dir DIR    load executable plugins from DIR, started on first use (repeatable)
The --plugin-*-dir options also load the external plugins whose commands the other commands are.
Point the docker CLI at it with DOCKER_HOST=unix://<socket>.
SIGINT or SIGTERM stops minid cleanly (containers killed, stop hooks run, socket removed), also while it starts;
more signals during shutdown are ignored, and the third in all force-quits (exit 128+signal, stop hooks skipped).`;

/** The options of `serve` that take a value (so that the value is not taken for the command word). */
const valued = new Set(["--socket", "--state-dir", "--runc", "--plugin-socket-dir", "--plugin-spec-dir", "--plugin-exec-dir"]);

/**
 * minid's built-in commands as plain data, for CliPlugin.updateCommands. minid runs its built-ins itself (a plugin
 * can hide one from help, not replace it), so their actions are never called.
 */
export function builtinCommands(): CliCommandSpec[] {
  const serveOptions = ["--socket <path>", "--state-dir <dir>", "--dry-run", "--runc <path>", "--plugin-socket-dir <dir>", "--plugin-spec-dir <dir>", "--plugin-exec-dir <dir>", "-h, --help"];
  return [
    {
      name: "serve",
      description: "run the daemon: serve the Docker Engine API on a UNIX socket (the default command)",
      options: serveOptions.map((flags) => ({ flags, description: "see serve options" })),
      action: () => 2,
    },
    { name: "help", description: "print this help", action: () => 2 },
  ];
}

/** The usage text for the final command list. */
export function usage(commands: readonly CliCommandSpec[] = builtinCommands()): string {
  return `usage: minid [serve] [--socket PATH] [--state-dir DIR] [--dry-run] [--runc PATH]
       minid <command> [arguments] [options]
${commandHelp(commands)}
${serveHelp}`;
}

/** A command line split into its command word (undefined: none, so serve), the rest, and the external plugin folders. */
export interface SplitArgs {
  /** The first word that is not an option or an option's value. */
  word: string | undefined;
  /** The arguments without the command word. */
  rest: string[];
  /** True when -h or --help comes before the command word (or there is none). */
  help: boolean;
  /** --plugin-socket-dir, --plugin-spec-dir, --plugin-exec-dir values, wherever they are. */
  sources: { socketDirs: string[]; specDirs: string[]; executableDirs: string[] };
  /** The arguments without the command word and the --plugin-*-dir options (what a plugin's command parses). */
  commandArgs: string[];
}

/** Splits `argv` (without node and script) as `SplitArgs` says. */
export function splitArgs(argv: readonly string[]): SplitArgs {
  const sources = { socketDirs: [] as string[], specDirs: [] as string[], executableDirs: [] as string[] };
  const keys = { "--plugin-socket-dir": sources.socketDirs, "--plugin-spec-dir": sources.specDirs, "--plugin-exec-dir": sources.executableDirs } as Record<string, string[]>;
  let word: string | undefined;
  let help = false;
  const rest: string[] = [];
  const commandArgs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const list = keys[flag];
    if (list) {
      const value = inline ?? argv[i + 1];
      rest.push(arg);
      if (inline === undefined && value !== undefined) rest.push(argv[++i]!);
      if (value !== undefined) list.push(value);
      continue;
    }
    if (word === undefined && !arg.startsWith("-")) {
      word = arg;
      continue;
    }
    if (word === undefined && (arg === "-h" || arg === "--help")) help = true;
    rest.push(arg);
    commandArgs.push(arg);
    if (word === undefined && valued.has(flag) && inline === undefined && i + 1 < argv.length) {
      rest.push(argv[++i]!);
      commandArgs.push(argv[i]!);
    }
  }
  return { word, rest, help, sources, commandArgs };
}

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
