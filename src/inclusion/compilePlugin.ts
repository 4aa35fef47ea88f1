/**
 * Compiles a plugin folder into one self-contained ES module file with its manifest embedded in the first line,
 * the counterpart of compiling an Apptainer plugin into a SIF file. "hookplugins" stays an import: the host provides it.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { bundleText } from "./bundleText.js";
import type { PluginLocation } from "./locatePlugin.js";
import { embeddedManifestLine } from "./pluginManifest.js";

/** The file name `plugin compile` writes by default for `manifest`. */
export function compiledFileName(name: string): string {
  return `${name.replace(/[^A-Za-z0-9._-]+/g, "-")}.hookplugin.js`;
}

/** Bundles the plugin at `location` (a folder) into `outFile`. */
export async function compilePlugin(location: PluginLocation, outFile: string): Promise<void> {
  const code = await bundleText(
    { entryPoints: [location.entry], external: ["hookplugins"], legalComments: "inline", banner: { js: embeddedManifestLine(location.manifest) } },
    `cannot compile plugin "${location.specifier}"`,
  );
  await mkdir(dirname(outFile), { recursive: true });
  await writeFile(outFile, code);
}
