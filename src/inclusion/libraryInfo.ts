/**
 * Facts about the running copy of the hookplugins library: its version and its entry module.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

function findPackageRoot(): string {
  for (let dir = here; ; dir = dirname(dir)) {
    const file = join(dir, "package.json");
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: string };
      if (pkg.name === "hookplugins") return dir;
    }
    if (dirname(dir) === dir) throw new Error(`cannot find the hookplugins package.json above ${here}`);
  }
}

let cachedRoot: string | undefined;

/** The folder holding this copy of the library's package.json. */
export function libraryRoot(): string {
  return (cachedRoot ??= findPackageRoot());
}

/** This library's version, the one plugins' `engines.hookplugins` ranges are checked against. */
export function libraryVersion(): string {
  const pkg = JSON.parse(readFileSync(join(libraryRoot(), "package.json"), "utf8")) as { version: string };
  return pkg.version;
}

/**
 * The file URL of the library entry module this process runs (dist/index.js when built, src/index.ts under tsx),
 * so that plugins loaded for checks register into the same default registry.
 */
export function libraryEntryUrl(): string {
  const candidates = [join(here, "index.js"), join(here, "..", "index.ts"), join(here, "..", "index.js")];
  const found = candidates.find((file) => existsSync(file));
  if (!found) throw new Error(`cannot find the hookplugins entry module next to ${here}`);
  return pathToFileURL(found).href;
}

/**
 * The file of this copy's `hookplugins/<subpath>` entry module: dist/<subpath>.js when built, src/<subpath>/index.ts
 * in the repo (under tsx or vitest).
 */
export function librarySubpathEntry(subpath: string): string {
  const entry = fileURLToPath(libraryEntryUrl());
  const candidates = [join(dirname(entry), `${subpath}.js`), join(dirname(entry), subpath, "index.ts")];
  const found = candidates.find((file) => existsSync(file));
  if (!found) throw new Error(`cannot find the hookplugins/${subpath} entry next to ${entry}`);
  return found;
}
