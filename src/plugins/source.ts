/**
 * Where a registered plugin comes from: compiled into the host (a module) or served by another process.
 */
import { pluginSourceKey } from "./registeredSymbols.js";

/** How a plugin reaches the host. */
export type PluginSourceKind = "module" | "socket" | "spec" | "executable";

/** Where a plugin comes from, as explain() and the CLI show it. */
export interface PluginSource {
  /** A module compiled into the host, a socket in a plugin folder, a spec file, or an executable. */
  readonly kind: PluginSourceKind;
  /** The module specifier, socket path, spec file or executable path. */
  readonly location: string;
}

/** The source a plugin object declares, if any. */
export function pluginSourceOf(plugin: object): PluginSource | undefined {
  const source = (plugin as { [pluginSourceKey]?: PluginSource })[pluginSourceKey];
  return source && typeof source.kind === "string" && typeof source.location === "string" ? source : undefined;
}
