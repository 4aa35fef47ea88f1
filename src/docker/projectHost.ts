/**
 * A host over a project's plugins at run time: every plugin of its hookplugins.json loaded (bundled and imported,
 * as `hookplugins explain` does), plus the external plugins its "external" sources hold, with the state file's
 * disabled plugins skipped.
 */
import { checkAgreement, checkEngines } from "../inclusion/checkPlugin.js";
import { loadPlugin } from "../inclusion/loadPlugin.js";
import { locateAll } from "../inclusion/projectOps.js";
import { readProject } from "../inclusion/projectManifest.js";
import { createHost, type Host } from "../dispatch/host.js";
import { loadExternalPlugins, type ExternalPlugins } from "../external/externalPlugins.js";
import { externalSourcesOfProject } from "../external/projectSources.js";
import { defaultRegistry } from "../registry/defaultRegistry.js";

/** A project's plugins loaded into this process, and a host over them. */
export interface ProjectHost {
  /** The host (default registry, the state file applied). */
  readonly host: Host;
  /** Each loaded plugin's name, interface and specifier, in registration order. */
  readonly plugins: readonly { readonly name: string; readonly type: string; readonly specifier: string; readonly enabled: boolean }[];
  /** The project's external plugins, when it declares sources (host.close() stops them). */
  readonly external: ExternalPlugins | undefined;
}

/**
 * Loads every plugin of the project at `root` into the default registry (its external plugins too: one that cannot be
 * loaded fails the load, so that no check is silently missing) and creates a host honouring `stateFile`.
 */
export async function loadProjectHost(root: string, stateFile: string, options: { timeoutMs?: number } = {}): Promise<ProjectHost> {
  const project = await readProject(root);
  const plugins: { name: string; type: string; specifier: string; enabled: boolean }[] = [];
  for (const location of locateAll(project)) {
    checkEngines(location);
    const registered = await loadPlugin(location, project.root);
    checkAgreement(location, registered);
    for (const p of registered) plugins.push({ name: p.name, type: p.type, specifier: location.specifier, enabled: true });
  }
  const sources = await externalSourcesOfProject(root);
  let external: ExternalPlugins | undefined;
  if (sources.socketDirs?.length || sources.specDirs?.length || sources.executableDirs?.length) {
    external = await loadExternalPlugins(defaultRegistry, sources);
    for (const info of external.list()) {
      for (const type of info.types) plugins.push({ name: info.name, type, specifier: `${info.source.kind} ${info.source.location}`, enabled: true });
    }
  }
  const host = createHost({
    registry: defaultRegistry,
    stateFile,
    ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
    ...(external && { external }),
  });
  for (const p of plugins) p.enabled = host.isEnabled(p.name);
  return { host, plugins, external };
}
