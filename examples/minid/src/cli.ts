/**
 * minid's command line: the arguments split into the command word, the rest and the external plugin folders, the
 * daemon's settings read from serve's options, and the help text written from the final command list.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serveOptions } from "./builtinCommands.js";
import { commandHelp, valuedFlags } from "./commandLine.js";
import type { CliCommandSpec, CliInvocation } from "hookplugins";

/** The settings of `minid serve`, read from its invocation's options. */
export interface ServeSettings {
  /** UNIX socket path. */
  socketPath: string;
  /** State directory. */
  stateDir: string;
  /** Force dry-run mode (otherwise chosen automatically). */
  dryRun: boolean | "auto";
  /** runc binary. */
  runc: string;
}

/** What help says after the command list. */
const helpNotes = `The --plugin-*-dir options also load the external plugins whose commands the other commands are.
Point the docker CLI at it with DOCKER_HOST=unix://<socket>.
SIGINT or SIGTERM stops minid cleanly (containers killed, stop hooks run, socket removed), also while it starts;
more signals during shutdown are ignored, and the third in all force-quits (exit 128+signal, stop hooks skipped).`;

/** Reads serve's settings from its invocation's options (camelCase keys), with minid's defaults. */
export function serveSettings(options: CliInvocation["options"]): ServeSettings {
  const text = (key: string): string | undefined => {
    const value = options[key];
    return typeof value === "string" ? value : undefined;
  };
  const stateDir = text("stateDir") ?? join(tmpdir(), "minid");
  return { socketPath: text("socket") ?? join(stateDir, "minid.sock"), stateDir, dryRun: options["dryRun"] === true ? true : "auto", runc: text("runc") ?? "runc" };
}

/** The usage text for the final command list. */
export function usage(commands: readonly CliCommandSpec[]): string {
  return `usage: minid [serve] [options]
       minid <command> [arguments] [options]
${commandHelp(commands)}
${helpNotes}`;
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

/**
 * Splits `argv` (without node and script) as `SplitArgs` says; `valued` are serve's options that take a value
 * (default: the built-in ones; pass the final serve spec's, so that a plugin's `--gpus 2` is not read as command `2`).
 */
export function splitArgs(argv: readonly string[], valued: ReadonlySet<string> = valuedFlags(serveOptions)): SplitArgs {
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
