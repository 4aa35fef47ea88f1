/**
 * minid's built-in commands (serve, help) as plain data with real actions, for CliPlugin.updateCommands: a plugin
 * may wrap one (same name, an action that calls the original), add options to it or hide it, and minid runs the
 * final list's spec. The final list must still hold `serve`.
 */
import type { CliCommandSpec, CliOptionSpec } from "hookplugins";

/** The options of `minid serve` (the daemon), in commander syntax; help shows them under serve's entry. */
export const serveOptions: readonly CliOptionSpec[] = [
  { flags: "--socket <path>", description: "UNIX socket to serve the Engine API on (default: <state-dir>/minid.sock)" },
  { flags: "--state-dir <dir>", description: "where images, containers and volumes live (default: $TMPDIR/minid)" },
  { flags: "--dry-run", description: "never run runc: write OCI bundles and print what would run" },
  { flags: "--runc <path>", description: "runc binary (default: runc on PATH)" },
  { flags: "--plugin-socket-dir <dir>", description: "load external plugins from the sockets in <dir> (repeatable)" },
  { flags: "--plugin-spec-dir <dir>", description: "load external plugins from the spec files in <dir> (repeatable)" },
  { flags: "--plugin-exec-dir <dir>", description: "load executable plugins from <dir>, started on first use (repeatable)" },
  { flags: "-h, --help", description: "print this help" },
];

/** The actions of the built-in commands. */
export interface BuiltinActions {
  /** Runs the daemon with the invocation's options until SIGTERM/SIGINT. */
  serve: CliCommandSpec["action"];
  /** Prints the usage of the final command list. */
  help: CliCommandSpec["action"];
}

/** minid's built-in commands as plain data, with `actions` as their actions. */
export function builtinCommands(actions: BuiltinActions): CliCommandSpec[] {
  return [
    {
      name: "serve",
      description: "run the daemon: serve the Docker Engine API on a UNIX socket (the default command)",
      options: [...serveOptions],
      action: actions.serve,
    },
    { name: "help", description: "print this help", action: actions.help },
  ];
}

/** The final command list has no `serve`: a CliPlugin left it out, and minid cannot run without it (exit status 2). */
export class ServeCommandRemovedError extends Error {
  override name = "ServeCommandRemovedError";
  constructor(
    /** The CliPlugins that ran updateCommands (one of them left serve out). */
    readonly plugins: readonly string[],
  ) {
    const who = plugins.length === 1 ? `plugin "${plugins[0]}"` : `one of the plugins ${plugins.map((p) => `"${p}"`).join(", ")}`;
    super(
      `CliPlugin.updateCommands of ${who} left out the built-in command "serve", which minid needs: return it from updateCommands (wrapped, or with hidden: true to leave it out of help)`,
    );
  }
}

/** The final list's `serve`; throws ServeCommandRemovedError naming `cliPlugins` when it is not there. */
export function serveCommandOf(commands: readonly CliCommandSpec[], cliPlugins: readonly string[]): CliCommandSpec {
  const serve = commands.find((c) => c.name === "serve");
  if (!serve) throw new ServeCommandRemovedError(cliPlugins);
  return serve;
}
