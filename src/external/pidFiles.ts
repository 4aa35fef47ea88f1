/**
 * The files a host keeps in its runtime folder for the executable plugins it starts: `host.json` (which host owns
 * the folder) and `<name>.pid` per running plugin process (which process, started by which host, on which socket).
 * They let the host's next start find and stop a plugin left running by a host that died.
 */
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { processIdentity, type ProcessIdentity } from "./processIdentity.js";

/** What `<runDir>/<name>.pid` holds: one executable plugin process a host started. */
export interface PluginPidRecord {
  /** The plugin's name. */
  readonly plugin: string;
  /** The executable that was started. */
  readonly executable: string;
  /** The socket it was told to serve on. */
  readonly socket: string;
  /** The plugin process (the leader of its own process group). */
  readonly process: ProcessIdentity;
  /** The host process that started it. */
  readonly host: ProcessIdentity;
}

/** The name of the file that says which host owns a runtime folder. */
export const hostFileName = "host.json";

/** The pid file of plugin `name` in `runDir`. */
export const pidFileOf = (runDir: string, name: string): string => join(runDir, `${name}.pid`);

let self: Promise<ProcessIdentity | undefined> | undefined;

/** This process's identity (undefined without Linux /proc). */
export function selfIdentity(): Promise<ProcessIdentity | undefined> {
  return (self ??= processIdentity(process.pid));
}

/** Writes `value` as JSON to `path` in one step (a reader never sees half a file). */
async function writeJsonAtomically(path: string, value: unknown): Promise<void> {
  const partial = `${path}.${process.pid}.partial`;
  await writeFile(partial, `${JSON.stringify(value)}\n`, { mode: 0o600 });
  await rename(partial, path);
}

/** Records this process as the owner of `runDir` (nothing without /proc). */
export async function writeHostFile(runDir: string): Promise<void> {
  const host = await selfIdentity();
  if (host) await writeJsonAtomically(join(runDir, hostFileName), host);
}

/** Records the plugin process `pid` started by this host; resolves with the file's path, or undefined without /proc. */
export async function writePidFile(runDir: string, plugin: string, executable: string, socket: string, pid: number): Promise<string | undefined> {
  const [host, started] = await Promise.all([selfIdentity(), processIdentity(pid)]);
  if (!host || !started) return undefined; // not identifiable here, or already gone
  const path = pidFileOf(runDir, plugin);
  const record: PluginPidRecord = { plugin, executable, socket, process: started, host };
  await writeJsonAtomically(path, record);
  return path;
}

/** Removes a pid file (if it is still there). */
export async function removePidFile(path: string): Promise<void> {
  await rm(path, { force: true });
}

function isIdentity(value: unknown): value is ProcessIdentity {
  const v = value as Partial<ProcessIdentity> | null;
  return typeof v === "object" && v !== null && Number.isInteger(v.pid) && (v.pid as number) > 0 && typeof v.startTime === "string" && typeof v.bootId === "string";
}

/** The record in a pid file, or undefined when it cannot be read or is not one. */
export async function readPidFile(path: string): Promise<PluginPidRecord | undefined> {
  try {
    const value = JSON.parse(await readFile(path, "utf8")) as Partial<PluginPidRecord>;
    const ok = typeof value.plugin === "string" && typeof value.executable === "string" && typeof value.socket === "string" && isIdentity(value.process) && isIdentity(value.host);
    return ok ? (value as PluginPidRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** The host recorded as the owner of `runDir`, or undefined when there is none (or it cannot be read). */
export async function readHostFile(runDir: string): Promise<ProcessIdentity | undefined> {
  try {
    const value: unknown = JSON.parse(await readFile(join(runDir, hostFileName), "utf8"));
    return isIdentity(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
