/**
 * The daemon's own network hook: a prestart hook at priority 0 that runc runs after it created the
 * container's network namespace. It records the OCI state it was given and appends "network" to the
 * hook trace file: $HOOKPLUGINS_HOOK_LOG when the daemon has it set, else the bundle's prestart.trace
 * (the same convention as the shipped prestart trace plugins, so all hooks trace into one file).
 */
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { PrestartHook } from "hookplugins";

/** The file in the bundle directory where minid's hooks append their names, in the order runc ran them. */
export const hookTraceFile = "prestart.trace";

/** PATH given to hooks: runc runs them with only the environment the hook entry lists. */
export const hookPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * A shell snippet that reads the OCI state from stdin into $state and the bundle path into $bundle.
 * runc passes the state JSON on the hook's stdin.
 */
export const readStateSnippet = `state=$(cat); bundle=$(printf '%s' "$state" | sed -n 's/.*"bundle": *"\\([^"]*\\)".*/\\1/p')`;

const script = `#!/bin/sh
# minid network hook (generated): runs in the runtime namespace before the container process starts.
# usage: network-hook <container-id> <endpoint-name>
set -e
${readStateSnippet}
[ -n "$bundle" ] || { echo "network hook: no bundle in the OCI state" >&2; exit 1; }
printf '%s\\n' "$state" > "$bundle/network-hook.state.json"
printf 'network\\n' >> "\${HOOKPLUGINS_HOOK_LOG:-$bundle/${hookTraceFile}}"
`;

/** Writes the network hook script into `hooksDir` and returns its path. */
export async function installNetworkHook(hooksDir: string): Promise<string> {
  await mkdir(hooksDir, { recursive: true });
  const path = join(hooksDir, "network-hook");
  await writeFile(path, script);
  await chmod(path, 0o755);
  return path;
}

/** The builtin prestart hook entry for one container's endpoint. */
export function networkHook(path: string, containerId: string, endpointName: string): PrestartHook {
  const log = process.env["HOOKPLUGINS_HOOK_LOG"];
  const env = log ? [hookPath, `HOOKPLUGINS_HOOK_LOG=${log}`] : [hookPath];
  return { priority: 0, path, args: [containerId, endpointName], env, timeout: 10 };
}
