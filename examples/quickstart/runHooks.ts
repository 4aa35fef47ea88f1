/**
 * A stand-in for the OCI runtime's prestart step: runs OCI hooks in order, each with the container state JSON on
 * stdin and only the environment its entry lists, as runc does; stops at the first failing hook.
 */
import { spawnSync } from "node:child_process";
import type { OciHook } from "hookplugins";

/** The OCI state a runtime hands its hooks. */
export interface OciState {
  /** OCI runtime-spec version. */
  readonly ociVersion: string;
  /** Container id. */
  readonly id: string;
  /** "creating" while prestart hooks run. */
  readonly status: string;
  /** The container's init pid. */
  readonly pid: number;
  /** Absolute path of the bundle directory. */
  readonly bundle: string;
}

/** Runs `hooks` like a runtime would; throws naming the hook that failed. */
export function runPrestartHooks(hooks: readonly OciHook[], state: OciState): void {
  for (const hook of hooks) {
    const env = Object.fromEntries((hook.env ?? []).map((entry) => [entry.slice(0, entry.indexOf("=")), entry.slice(entry.indexOf("=") + 1)]));
    const result = spawnSync(hook.path, hook.args.slice(1), {
      argv0: hook.args[0] ?? hook.path,
      input: JSON.stringify(state),
      env,
      timeout: (hook.timeout ?? 30) * 1000,
      encoding: "utf8",
    });
    if (result.error || result.status !== 0) {
      const why = result.error?.message ?? `exit code ${String(result.status)}: ${result.stderr.trim()}`;
      throw new Error(`prestart hook ${hook.args.join(" ")} failed: ${why}`);
    }
  }
}
