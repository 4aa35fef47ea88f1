/**
 * A host over a project's plugins at run time: every plugin of its hookplugins.json loaded (bundled and imported,
 * as `hookplugins explain` does), with the state file's disabled plugins skipped.
 */
import { checkAgreement, checkEngines } from "../build/checkPlugin.js";
import { loadPlugin } from "../build/loadPlugin.js";
import { locateAll } from "../build/projectOps.js";
import { readProject } from "../build/projectManifest.js";
import { createHost, type Host } from "../dispatch/host.js";
import { defaultRegistry } from "../registry/defaultRegistry.js";

/** A project's plugins loaded into this process, and a host over them. */
export interface ProjectHost {
  /** The host (default registry, the state file applied). */
  readonly host: Host;
  /** Each loaded plugin's name, interface and specifier, in registration order. */
  readonly plugins: readonly { readonly name: string; readonly type: string; readonly specifier: string; readonly enabled: boolean }[];
}

/** Loads every plugin of the project at `root` into the default registry and creates a host honouring `stateFile`. */
export async function loadProjectHost(root: string, stateFile: string, options: { timeoutMs?: number } = {}): Promise<ProjectHost> {
  const project = await readProject(root);
  const plugins: { name: string; type: string; specifier: string; enabled: boolean }[] = [];
  for (const location of locateAll(project)) {
    checkEngines(location);
    const registered = await loadPlugin(location, project.root);
    checkAgreement(location, registered);
    for (const p of registered) plugins.push({ name: p.name, type: p.type, specifier: location.specifier, enabled: true });
  }
  const host = createHost({ registry: defaultRegistry, stateFile, ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }) });
  for (const p of plugins) p.enabled = host.isEnabled(p.name);
  return { host, plugins };
}
