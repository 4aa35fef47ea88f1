/**
 * A host over a project's plugins at run time, for the Docker bridge, the Docker proxy and the CRI relay: every plugin
 * of its hookplugins.json and its "external" sources loaded the one way (loadProjectPlugins), with the state file's
 * disabled plugins skipped.
 */
import { createHost, type Host } from "../dispatch/host.js";
import type { ExternalPlugins } from "../external/externalPlugins.js";
import { describePluginSource, loadProjectPlugins } from "../inclusion/projectPlugins.js";
import { defaultRegistry } from "../registry/defaultRegistry.js";

/** A project's plugins loaded into this process, and a host over them. */
export interface ProjectHost {
  /** The host (default registry, the state file applied). */
  readonly host: Host;
  /** Each loaded plugin's name, interface and source (a specifier, or "<kind> <path>"), in registration order. */
  readonly plugins: readonly { readonly name: string; readonly type: string; readonly specifier: string; readonly enabled: boolean }[];
  /** The project's external plugins, when it declares sources (host.close() stops them). */
  readonly external: ExternalPlugins | undefined;
}

/**
 * Loads every plugin of the project at `root` into the default registry and creates a host honouring `stateFile`.
 * A plugin that cannot be loaded, in-process or external (a spec file that cannot be read included), fails the load,
 * so that a server never runs with a check silently missing.
 */
export async function loadProjectHost(root: string, stateFile: string, options: { timeoutMs?: number } = {}): Promise<ProjectHost> {
  const loaded = await loadProjectPlugins(root);
  let host: Host;
  try {
    host = createHost({
      registry: defaultRegistry,
      stateFile,
      ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
      ...(loaded.external && { external: loaded.external }),
    });
  } catch (error) {
    await loaded.close();
    throw error;
  }
  const plugins = loaded.plugins.map((p) => ({ name: p.name, type: p.type, specifier: describePluginSource(p.source), enabled: host.isEnabled(p.name) }));
  return { host, plugins, external: loaded.external };
}
