/**
 * Turns merged prestart hooks into OCI runtime-spec Hook objects.
 */
import { checkPrestartHook } from "../dispatch/prestartHooks.js";
import type { PrestartHook } from "../plugins/interfaces.js";

/** An OCI runtime-spec hook (config.json `hooks.prestart[]` and friends). */
export interface OciHook {
  /** Absolute path of the executable. */
  path: string;
  /** argv with execv semantics: args[0] is the program name. */
  args: string[];
  /** Environment as KEY=value strings. */
  env?: string[];
  /** Seconds before the runtime aborts the hook (at least 1). */
  timeout?: number;
}

/** Converts prestart hooks, in order, to OCI hooks: args[0] is the program path, then the plugin's args. */
export function toOciHooks(hooks: readonly PrestartHook[]): OciHook[] {
  return hooks.map((raw, i) => {
    const hook = checkPrestartHook(raw, `prestart hook #${i}`);
    const oci: OciHook = { path: hook.path, args: [hook.path, ...(hook.args ?? [])] };
    if (hook.env) oci.env = hook.env;
    if (hook.timeout !== undefined) oci.timeout = hook.timeout;
    return oci;
  });
}
