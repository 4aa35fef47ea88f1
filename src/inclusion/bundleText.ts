/**
 * Bundling a plugin into one ES module text with esbuild, and the error a failed bundle becomes.
 * esbuild is imported here on first use (an optional peer dependency); without it this throws EsbuildMissingError.
 */
import { fileURLToPath } from "node:url";
import type { BuildOptions, Plugin } from "esbuild";
import { libraryEntryUrl, librarySubpathEntry } from "./libraryInfo.js";
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

/** A first line that gives an ES module bundle a `require`: CommonJS code bundled into it requires Node's modules. */
export const esmRequireBanner =
  "import { createRequire as __hookpluginsCreateRequire } from 'node:module'; const require = __hookpluginsCreateRequire(import.meta.url);";

/**
 * An esbuild plugin that bundles this very copy of the library for `import "hookplugins"` and for each
 * `"hookplugins/<subpath>"` of `subpaths`: one copy in the bundle, shared by its plugins and its main.
 */
export function bundledLibraryPlugin(subpaths: readonly string[] = []): Plugin {
  const library = fileURLToPath(libraryEntryUrl());
  const entries = new Map(subpaths.map((subpath) => [`hookplugins/${subpath}`, librarySubpathEntry(subpath)]));
  return {
    name: "hookplugins-library-bundled",
    setup(b) {
      b.onResolve({ filter: /^hookplugins(\/[a-z]+)?$/ }, (args) => {
        if (args.path === "hookplugins") return { path: library };
        const entry = entries.get(args.path);
        return entry === undefined ? undefined : { path: entry };
      });
    },
  };
}
