#!/usr/bin/env node
/**
 * The `hookplugins` executable.
 */
import { exitFailure, formatError } from "./output.js";
import { runCli } from "./program.js";

// Work that never settles would let Node end the process silently with status 13 (unsettled top-level await): a bug,
// but the user hears of it and gets status 1.
process.once("beforeExit", () => {
  const message = "internal error: the command stopped before it finished (nothing was left to wait for); please report this bug";
  process.stderr.write(formatError("InternalError", message, process.argv.includes("--json")));
  process.exit(exitFailure);
});
process.exit(await runCli(process.argv));
