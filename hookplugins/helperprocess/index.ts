/**
 * helperprocess: a DaemonPlugin that starts a helper child process when the daemon starts and stops it when the
 * daemon stops. The helper is `node helper.js` (shipped here) unless HOOKPLUGINS_HELPER_CMD names another command.
 */
import { registerDaemonPlugin, type DaemonPlugin } from "hookplugins";
import { HelperProcess } from "./helperProcess.js";

export { defaultHelperCommand, defaultHelperScript, HelperProcess } from "./helperProcess.js";
export type { HelperExit, HelperProcessOptions } from "./helperProcess.js";

/** A helperprocess plugin object driving `helper` (for hosts and tests that want their own options). */
export function createHelperProcessPlugin(helper: HelperProcess, name = "helperprocess"): DaemonPlugin {
  return {
    name,
    version: "0.1.0",
    description: "Starts a helper child process on daemon start and stops it on daemon stop",
    author: "hookplugins authors",
    preStartHook: (ctx) => helper.start(ctx.signal),
    preStopHook: (ctx) => helper.stop(ctx.signal),
  };
}

/** The helper process the registered plugin drives (pid, readyInfo, running). */
export const helperProcess = new HelperProcess();

/** The helperprocess DaemonPlugin object (registered in the default registry when this module loads). */
export const helperProcessPlugin: DaemonPlugin = createHelperProcessPlugin(helperProcess);

registerDaemonPlugin(helperProcessPlugin);

