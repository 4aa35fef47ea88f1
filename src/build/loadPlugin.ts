/**
 * Runs a plugin's entry module in this process to see what it registers: bundles it with esbuild (with "hookplugins"
 * pointing at this very copy of the library) and imports the bundle, then diffs the default registry.
 */
import { randomBytes } from "node:crypto";
import { rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Plugin } from "esbuild";
import { defaultRegistry } from "../registry/defaultRegistry.js";
import type { RegisteredPlugin } from "../registry/registry.js";
import { bundleText, PluginLoadError } from "./bundleText.js";
import { libraryEntryUrl } from "./libraryInfo.js";

export { PluginLoadError };
import type { PluginLocation } from "./locatePlugin.js";


/** An esbuild plugin that makes `import "hookplugins"` load the library at `entryUrl`, left external. */
export function libraryAliasPlugin(entryUrl: string): Plugin {
  return {
    name: "hookplugins-library-alias",
    setup(b) {
      b.onResolve({ filter: /^hookplugins$/ }, () => ({ path: entryUrl, external: true }));
    },
  };
}

/** The import statement that loads `location`'s entry module. */
export function importTargetOf(location: PluginLocation): string {
  return location.entry;
}

/** Bundles `location` (resolved from `root`) into one ESM text whose "hookplugins" import is this library. */
export async function bundleForLoad(location: PluginLocation, root: string): Promise<string> {
  return bundleText(
    {
      stdin: { contents: `import ${JSON.stringify(importTargetOf(location))};`, resolveDir: root, sourcefile: "hookplugins-load.ts", loader: "ts" },
      plugins: [libraryAliasPlugin(libraryEntryUrl())],
      banner: { js: "import { createRequire as __hookpluginsCreateRequire } from 'node:module'; const require = __hookpluginsCreateRequire(import.meta.url);" },
    },
    `cannot build plugin "${location.specifier}"`,
  );
}

/** Imports `location` into this process and returns the plugins it registered in the default registry, in order. */
export async function loadPlugin(location: PluginLocation, root: string): Promise<RegisteredPlugin[]> {
  const code = await bundleForLoad(location, root);
  const before = Math.max(0, ...defaultRegistry.list().map((p) => p.seq));
  const file = join(tmpdir(), `hookplugins-load-${process.pid}-${randomBytes(6).toString("hex")}.mjs`);
  await writeFile(file, code);
  try {
    await import(pathToFileURL(file).href);
  } catch (error) {
    throw new PluginLoadError(`plugin "${location.specifier}" threw while loading: ${(error as Error).message ?? String(error)}`);
  } finally {
    await rm(file, { force: true });
  }
  return defaultRegistry.list().filter((p) => p.seq > before);
}
