/**
 * What minid needs from the host, found in one place: runc (and root), busybox-static for the busybox image, and,
 * for the demo, a docker CLI. Each is looked up on PATH, then in the usual directories (Debian puts runc in
 * /usr/sbin, which is not on every user's PATH).
 */
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { delimiter, isAbsolute, join } from "node:path";
import { execFileCollect } from "./exec.js";

/** Directories searched after PATH. */
export const usualBinDirs: readonly string[] = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/** The outcome of probing the host for runc. */
export interface RuntimeProbe {
  /** True when runc can really run containers here. */
  usable: boolean;
  /** Why it cannot (empty when usable). */
  reason: string;
  /** runc's version line, when it answered. */
  version?: string;
  /** The runc binary that answered. */
  path?: string;
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** `name` when it is a path, else the first executable `name` on PATH or in the usual directories, or undefined. */
export async function findExecutable(name: string, searchPath: string = process.env.PATH ?? ""): Promise<string | undefined> {
  if (name.includes("/")) return (await isExecutableFile(name)) ? name : undefined;
  const dirs = new Set([...searchPath.split(delimiter).filter((dir) => isAbsolute(dir)), ...usualBinDirs]);
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/** The busybox binary (Debian's busybox-static), or undefined. */
export function findBusybox(): Promise<string | undefined> {
  return findExecutable("busybox");
}

/** The docker CLI, or undefined (Debian's docker.io puts it in /usr/bin, Docker's packages in /usr/bin or /usr/local/bin). */
export function findDockerCli(): Promise<string | undefined> {
  return findExecutable("docker");
}

/** Checks that `runc` is there and answers, and that the process is root. */
export async function probeRunc(runc = "runc"): Promise<RuntimeProbe> {
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    return { usable: false, reason: "minid is not running as root, and runc needs root here" };
  }
  const path = await findExecutable(runc);
  if (!path) {
    const where = runc.includes("/") ? runc : `${runc} on PATH or in ${usualBinDirs.join(", ")}`;
    return { usable: false, reason: `runc was not found (looked for ${where}); install the Debian package "runc"` };
  }
  try {
    const result = await execFileCollect(path, ["--version"]);
    if (result.code !== 0) return { usable: false, reason: `"${path} --version" failed: ${result.stderr.trim()}` };
    return { usable: true, reason: "", version: result.stdout.split("\n")[0]?.trim() ?? "", path };
  } catch (err) {
    return { usable: false, reason: `${path} cannot be run (${(err as Error).message})` };
  }
}
