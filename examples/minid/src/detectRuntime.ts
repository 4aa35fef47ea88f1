/**
 * Chooses the runtime: runc when it is installed and minid runs as root, the dry-run runtime otherwise.
 */
import { execFileCollect } from "./exec.js";

/** The outcome of probing the host for runc. */
export interface RuntimeProbe {
  /** True when runc can really run containers here. */
  usable: boolean;
  /** Why it cannot (empty when usable). */
  reason: string;
  /** runc's version line, when it answered. */
  version?: string;
}

/** Checks that `runc` answers and that the process is root. */
export async function probeRunc(runc = "runc"): Promise<RuntimeProbe> {
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    return { usable: false, reason: "minid is not running as root, and runc needs root here" };
  }
  try {
    const result = await execFileCollect(runc, ["--version"]);
    if (result.code !== 0) return { usable: false, reason: `"${runc} --version" failed: ${result.stderr.trim()}` };
    return { usable: true, reason: "", version: result.stdout.split("\n")[0]?.trim() ?? "" };
  } catch (err) {
    return { usable: false, reason: `runc was not found (${(err as Error).message}); install the Debian package "runc"` };
  }
}
