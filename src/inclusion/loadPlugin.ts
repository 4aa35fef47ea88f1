/**
 * Runs a plugin's entry module in this process to see what it registers: bundles it with esbuild (with "hookplugins"
 * pointing at this very copy of the library) and imports the bundle, then diffs the default registry.
 * Without esbuild (an optional peer), a plugin whose entry is JavaScript is imported as it is: its "hookplugins"
 * resolves the way Node resolves it, and every copy of the library shares the default registry.
 */
import { randomBytes } from "node:crypto";
import { rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { extname, join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Plugin } from "esbuild";
import { defaultRegistry } from "../registry/defaultRegistry.js";
import type { RegisteredPlugin } from "../registry/registry.js";
import { bundleText, esmRequireBanner, PluginLoadError } from "./bundleText.js";
import { libraryEntryUrl } from "./libraryInfo.js";
import { EsbuildMissingError } from "./loadEsbuild.js";

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
      banner: { js: esmRequireBanner },
    },
    `cannot build plugin "${location.specifier}"`,
  );
}

const javascript = new Set([".js", ".mjs", ".cjs"]);

/** The file URL of `location`'s entry when Node can import it without bundling (JavaScript), else undefined. */
function unbundledEntryUrl(location: PluginLocation, root: string): string | undefined {
  let file: string;
  try {
    file = location.kind === "package" ? createRequire(join(root, "package.json")).resolve(location.entry) : location.entry;
  } catch {
    return undefined;
  }
  return javascript.has(extname(file)) ? pathToFileURL(file).href : undefined;
}

async function importRegistering(url: string, location: PluginLocation): Promise<RegisteredPlugin[]> {
  const before = Math.max(0, ...defaultRegistry.list().map((p) => p.seq));
  try {
    await import(url);
  } catch (error) {
    throw new PluginLoadError(`plugin "${location.specifier}" threw while loading: ${(error as Error).message ?? String(error)}`);
  }
  return defaultRegistry.list().filter((p) => p.seq > before);
}

/** Imports `location` into this process and returns the plugins it registered in the default registry, in order. */
export async function loadPlugin(location: PluginLocation, root: string): Promise<RegisteredPlugin[]> {
  let code: string;
  try {
    code = await bundleForLoad(location, root);
  } catch (error) {
    const url = error instanceof EsbuildMissingError ? unbundledEntryUrl(location, root) : undefined;
    if (url === undefined) throw error;
    // a query of its own per load, so that the entry module runs (and registers) again in a process that loaded it before
    return importRegistering(`${url}?hookplugins-load=${randomBytes(6).toString("hex")}`, location).catch((failure: unknown) => {
      // most likely its "hookplugins" import does not resolve from where it lies; bundling would have taken care of that
      throw failure instanceof PluginLoadError && /Cannot find (package|module) 'hookplugins'/.test(failure.message) ? error : failure;
    });
  }
  const file = join(tmpdir(), `hookplugins-load-${process.pid}-${randomBytes(6).toString("hex")}.mjs`);
  await writeFile(file, code);
  try {
    return await importRegistering(pathToFileURL(file).href, location);
  } finally {
    await rm(file, { force: true });
  }
}
