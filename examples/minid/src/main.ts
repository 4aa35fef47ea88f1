/**
 * minid entry point: imports the generated plugin module (build-time plugin inclusion) and runs the program
 * (`program.ts`): the daemon by default, `help`, or a plugin's command.
 */
import "./plugins.generated.js";
import { runMinid } from "./program.js";

runMinid(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`minid: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
