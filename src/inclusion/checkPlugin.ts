/**
 * The checks a plugin passes before it is added to a build: it resolves, its manifest is valid and accepts this
 * library's version, loading it registers at least one plugin, and what it registers agrees with its manifest.
 */
import { defaultRegistry } from "../registry/defaultRegistry.js";
import type { RegisteredPlugin } from "../registry/registry.js";
import { libraryVersion } from "./libraryInfo.js";
import { loadPlugin } from "./loadPlugin.js";
import { locatePlugin, type PluginLocation } from "./locatePlugin.js";
import { enginesAccept, PluginManifestError } from "./pluginManifest.js";

/** A plugin that passed the checks, with what it registered. */
export interface CheckedPlugin {
  /** Where it is and its manifest. */
  readonly location: PluginLocation;
  /** The plugin objects its entry module registered, in order. */
  readonly registered: readonly RegisteredPlugin[];
}

/** The plugin's manifest does not accept this library's version. */
export class PluginEnginesError extends Error {
  override name = "PluginEnginesError";
}

/** Throws when `location`'s manifest does not accept this library's version. */
export function checkEngines(location: PluginLocation, version = libraryVersion()): void {
  if (!enginesAccept(location.manifest, version)) {
    throw new PluginEnginesError(
      `plugin "${location.manifest.name}" (${location.specifier}) requires hookplugins ${location.manifest.engines.hookplugins}, but this is hookplugins ${version}`,
    );
  }
}

/** Throws when the registered plugin objects disagree with the manifest (name, and version, description, author when both set). */
export function checkAgreement(location: PluginLocation, registered: readonly RegisteredPlugin[]): void {
  const { manifest, specifier, manifestSource } = location;
  if (registered.length === 0) {
    throw new PluginManifestError(`plugin "${specifier}" registers no plugin when loaded: its entry module must call a register*Plugin function from "hookplugins"`);
  }
  for (const plugin of registered) {
    if (plugin.name !== manifest.name) {
      throw new PluginManifestError(
        `plugin "${specifier}" registers ${plugin.type} "${plugin.name}", but its manifest (${manifestSource}) names it "${manifest.name}"; make the names agree`,
      );
    }
    for (const key of ["version", "description", "author"] as const) {
      const own = plugin[key];
      const declared = manifest[key];
      if (own !== undefined && declared !== undefined && own !== declared) {
        throw new PluginManifestError(
          `plugin "${manifest.name}" (${specifier}): ${plugin.type} object has ${key} ${JSON.stringify(own)}, but its manifest (${manifestSource}) says ${JSON.stringify(declared)}`,
        );
      }
    }
  }
}

/**
 * Runs every check on the (normalized) `specifier` of the project at `root`, loading it into an emptied default
 * registry; the registry is emptied again afterwards so checks never leak into each other.
 */
export async function checkPlugin(specifier: string, root: string): Promise<CheckedPlugin> {
  const location = locatePlugin(specifier, root);
  checkEngines(location);
  defaultRegistry.clear();
  try {
    const registered = await loadPlugin(location, root);
    checkAgreement(location, registered);
    return { location, registered };
  } finally {
    defaultRegistry.clear();
  }
}
