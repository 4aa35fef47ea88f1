/**
 * Reading an OCI runtime's command line the way runc does: global flags, then the subcommand, then its own flags and
 * the container id. The wrapper script (wrapperScript.ts) finds the subcommand with the same flag lists.
 */

/** runc's global flags that take a value (`--root <dir>`), and crun's `--cgroup-manager`/`--log-level`; `--flag=value` works too. */
export const globalFlagsWithValue: readonly string[] = ["root", "log", "log-format", "criu", "rootless", "cgroup-manager", "log-level"];

/** The subcommands before which the wrapper runs the plugins' preStart: the two that make a container from a bundle. */
export const creatingCommands: readonly string[] = ["create", "run"];

/** Flags of `create` and `run` that take a value (`--bundle <dir>`, `-b <dir>`, `--pid-file <file>`, ...). */
const createFlagsWithValue: readonly string[] = ["bundle", "b", "console-socket", "pid-file", "preserve-fds"];

/** What the global flags say about where and how the runtime logs. */
export interface RuntimeGlobals {
  /** `--log <file>`: where runc writes its log (and where engines read its errors). */
  readonly log: string | undefined;
  /** `--log-format`: "json" (runc's JSON lines, which containerd reads) or "text". */
  readonly logFormat: "json" | "text";
}

/** An OCI runtime command line, read. */
export interface RuntimeInvocation {
  /** The global flags the wrapper needs. */
  readonly globals: RuntimeGlobals;
  /** The subcommand (`create`, `state`, ...), or undefined for none (`--version`, `--help`). */
  readonly command: string | undefined;
  /** `create`/`run`: the `--bundle` folder as given (undefined: the working folder). */
  readonly bundle: string | undefined;
  /** `create`/`run`: the container id (the first argument after the subcommand's flags). */
  readonly id: string | undefined;
}

/** The flag's name without its leading dashes and `=value` (`--log-format=json` → `log-format`), or undefined for a non-flag. */
function flagName(arg: string): string | undefined {
  if (!arg.startsWith("-") || arg === "-" || arg === "--") return undefined;
  const name = arg.replace(/^--?/, "");
  const eq = name.indexOf("=");
  return eq === -1 ? name : name.slice(0, eq);
}

/** The value of `--flag=value`, or undefined when the flag has no `=`. */
function inlineValue(arg: string): string | undefined {
  const eq = arg.indexOf("=");
  return eq === -1 ? undefined : arg.slice(eq + 1);
}

/** Reads `argv` (the arguments after the program) as runc does. */
export function parseRuntimeArgs(argv: readonly string[]): RuntimeInvocation {
  let log: string | undefined;
  let logFormat: "json" | "text" = "text";
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    const name = flagName(arg);
    if (name === undefined) break;
    if (!globalFlagsWithValue.includes(name)) continue;
    const value = inlineValue(arg) ?? argv[++i];
    if (name === "log") log = value;
    if (name === "log-format") logFormat = value === "json" ? "json" : "text";
  }
  const command = argv[i];
  let bundle: string | undefined;
  let id: string | undefined;
  if (command !== undefined && creatingCommands.includes(command)) {
    for (let j = i + 1; j < argv.length; j++) {
      const arg = argv[j]!;
      const name = flagName(arg);
      if (name === undefined) {
        id = arg;
        break;
      }
      if (!createFlagsWithValue.includes(name)) continue;
      const value = inlineValue(arg) ?? argv[++j];
      if (name === "bundle" || name === "b") bundle = value;
    }
  }
  return { globals: { log, logFormat }, command, bundle, id };
}
