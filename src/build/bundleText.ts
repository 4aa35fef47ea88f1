/**
 * Bundling a plugin into one ES module text with esbuild, and the error a failed bundle becomes.
 * esbuild is imported here on first use (an optional peer dependency); without it this throws EsbuildMissingError.
 */
import type { BuildOptions } from "esbuild";
import { loadEsbuild } from "./loadEsbuild.js";

/** Loading a plugin failed: it did not resolve or bundle, or it threw while registering. */
export class PluginLoadError extends Error {
  override name = "PluginLoadError";
}

/** Bundles for Node 20 as ESM into memory and returns the text; a failure is a PluginLoadError starting with `what`. */
export async function bundleText(options: BuildOptions, what: string): Promise<string> {
  const { build } = await loadEsbuild(what);
  try {
    const result = await build({ bundle: true, platform: "node", format: "esm", target: "node20", write: false, logLevel: "silent", ...options });
    return result.outputFiles![0]!.text;
  } catch (error) {
    const messages = (error as { errors?: Array<{ text: string }> }).errors?.map((e) => e.text) ?? [(error as Error).message];
    throw new PluginLoadError(`${what}: ${messages.join("; ")}`);
  }
}
