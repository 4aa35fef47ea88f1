/**
 * minid entry point: imports the generated plugin module (build-time plugin inclusion), creates the
 * hookplugins host, starts the daemon and stops it cleanly on SIGTERM or SIGINT.
 */
import "./plugins.generated.js";
import { createHost } from "hookplugins";
import { parseMinidArgs, usage } from "./cli.js";
import { startDaemon } from "./daemon.js";

/** Runs the daemon until SIGTERM/SIGINT; resolves with the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let args;
  try {
    args = parseMinidArgs(argv);
  } catch (err) {
    process.stderr.write(`minid: ${(err as Error).message}\n${usage}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const host = createHost();
  const daemon = await startDaemon({ host, socketPath: args.socketPath, stateDir: args.stateDir, dryRun: args.dryRun, runc: args.runc });
  process.stderr.write(`minid: serving the Docker Engine API on unix://${daemon.socketPath} (runtime: ${daemon.context.runtime.name})\n`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  process.stderr.write(`minid: ${signal} received, shutting down\n`);
  try {
    await daemon.stop();
  } catch (err) {
    process.stderr.write(`minid: shutdown finished with errors: ${(err as Error).message}\n`);
    host.close();
    return 1;
  }
  host.close();
  process.stderr.write("minid: stopped\n");
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`minid: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
