/**
 * A plugin's manifest: its metadata, kept under the `hookplugin` key of the plugin's package.json
 * (or embedded in the first line of a compiled plugin file).
 */
// the three functions only, so that the CLI bundle carries no more of semver than it uses
import satisfies from "semver/functions/satisfies.js";
import valid from "semver/functions/valid.js";
import validRange from "semver/ranges/valid.js";

/** The key of package.json that holds a plugin's manifest. */
export const manifestKey = "hookplugin";

/** The first-line marker of a compiled plugin file, followed by the manifest as JSON. */
export const embeddedManifestPrefix = "// hookplugin-manifest: ";

/** A plugin's metadata. */
export interface PluginManifest {
  /** The name every plugin object the entry module registers carries. */
  readonly name: string;
  /** The plugin's version (semver). */
  readonly version: string;
  /** One line saying what the plugin does. */
  readonly description?: string;
  /** Who maintains the plugin. */
  readonly author?: string;
  /** Compatible library versions. */
  readonly engines: {
    /** A semver range of hookplugins versions the plugin works with, e.g. "^0.1.0". */
    readonly hookplugins: string;
  };
}

/** A manifest is missing or invalid. */
export class PluginManifestError extends Error {
  override name = "PluginManifestError";
}

/** Checks raw manifest data read from `source`; throws PluginManifestError saying what to fix. */
export function validateManifest(data: unknown, source: string): PluginManifest {
  const where = `the "${manifestKey}" manifest in ${source}`;
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new PluginManifestError(
      `${source} has no "${manifestKey}" manifest: add {"${manifestKey}": {"name", "version", "description", "author", "engines": {"hookplugins": "<range>"}}}`,
    );
  }
  const record = data as Record<string, unknown>;
  const name = record["name"];
  if (typeof name !== "string" || name.trim() === "") throw new PluginManifestError(`${where} needs a non-empty string "name"`);
  const version = record["version"];
  if (typeof version !== "string" || !valid(version)) {
    throw new PluginManifestError(`${where} needs a semver "version", got ${JSON.stringify(version)}`);
  }
  for (const key of ["description", "author"] as const) {
    if (record[key] !== undefined && typeof record[key] !== "string") throw new PluginManifestError(`${where}: "${key}" must be a string`);
  }
  const engines = record["engines"] as Record<string, unknown> | undefined;
  const range = engines?.["hookplugins"];
  if (typeof range !== "string" || validRange(range) === null) {
    throw new PluginManifestError(
      `${where} needs "engines": {"hookplugins": "<semver range>"} naming the library versions it works with, got ${JSON.stringify(range)}`,
    );
  }
  const description = record["description"] as string | undefined;
  const author = record["author"] as string | undefined;
  return {
    name,
    version,
    ...(description !== undefined && { description }),
    ...(author !== undefined && { author }),
    engines: { hookplugins: range },
  };
}

/** Whether `manifest` accepts library `version` (prereleases included). */
export function enginesAccept(manifest: PluginManifest, version: string): boolean {
  return satisfies(version, manifest.engines.hookplugins, { includePrerelease: true });
}

/** The manifest embedded in a compiled plugin file's first line, or undefined when it has none. */
export function readEmbeddedManifest(text: string, source: string): PluginManifest | undefined {
  const firstLine = text.slice(0, text.indexOf("\n") === -1 ? undefined : text.indexOf("\n"));
  const line = firstLine.startsWith("#!") ? text.split("\n", 2)[1] ?? "" : firstLine;
  if (!line.startsWith(embeddedManifestPrefix)) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(line.slice(embeddedManifestPrefix.length));
  } catch (error) {
    throw new PluginManifestError(`the embedded manifest of ${source} is not valid JSON: ${(error as Error).message}`);
  }
  return validateManifest(data, source);
}

/** The first line that embeds `manifest` in a compiled plugin file. */
export function embeddedManifestLine(manifest: PluginManifest): string {
  return `${embeddedManifestPrefix}${JSON.stringify(manifest)}`;
}
