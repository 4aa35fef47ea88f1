/**
 * Finds a plugin from its specifier without running it: its entry module and its manifest.
 * A specifier is a path (to a plugin folder or a compiled plugin file) or an npm package name.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { manifestKey, readEmbeddedManifest, validateManifest, type PluginManifest, PluginManifestError } from "./pluginManifest.js";

/** Where a plugin is and what its manifest says. */
export interface PluginLocation {
  /** The specifier as the project manifest stores it. */
  readonly specifier: string;
  /** A plugin folder, a compiled plugin file, or an npm package. */
  readonly kind: "folder" | "file" | "package";
  /** Absolute path of the entry module (for folders and files), or the package specifier (for packages). */
  readonly entry: string;
  /** The file the manifest was read from. */
  readonly manifestSource: string;
  /** The plugin's manifest. */
  readonly manifest: PluginManifest;
}

/** A specifier does not lead to a plugin. */
export class PluginNotFoundError extends Error {
  override name = "PluginNotFoundError";
}

/** Whether `specifier` is written as a path rather than a package name. */
export function isPathSpecifier(specifier: string): boolean {
  return /^(\.{1,2}([\\/]|$)|[\\/]|[A-Za-z]:[\\/])/.test(specifier);
}

function packageNameOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

function findPackageDir(specifier: string, root: string): string | undefined {
  const name = packageNameOf(specifier);
  for (let dir = root; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * The specifier as hookplugins.json stores it: paths become project-relative POSIX paths starting with "./" or "../";
 * package names stay as they are. A name that is not an installed package but an existing path (relative to `cwd`) is a path.
 */
export function normalizeSpecifier(specifier: string, cwd: string, root: string): string {
  const trimmed = specifier.trim();
  const asPath = isPathSpecifier(trimmed) || (!findPackageDir(trimmed, root) && existsSync(resolve(cwd, trimmed)));
  if (!asPath) return trimmed;
  const rel = relative(root, resolve(cwd, trimmed)).split(sep).join("/");
  if (rel === "") return ".";
  return rel.startsWith("../") || rel === ".." || isAbsolute(rel) ? rel : `./${rel}`;
}

function readJson(file: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch (error) {
    throw new PluginManifestError(`cannot read ${file}: ${(error as Error).message}`);
  }
}

function folderEntry(dir: string, pkg: Record<string, unknown>): string {
  const exportsField = pkg["exports"];
  const dot =
    typeof exportsField === "string" ? exportsField : (exportsField as Record<string, unknown> | undefined)?.["."];
  const fromExports =
    typeof dot === "string" ? dot : typeof dot === "object" && dot ? ((dot as Record<string, unknown>)["import"] ?? (dot as Record<string, unknown>)["default"]) : undefined;
  const declared = [fromExports, pkg["module"], pkg["main"]].find((v): v is string => typeof v === "string");
  const candidates = declared ? [declared] : ["index.ts", "index.mts", "index.js", "index.mjs"];
  for (const candidate of candidates) {
    const file = resolve(dir, candidate);
    if (existsSync(file) && statSync(file).isFile()) return file;
  }
  throw new PluginNotFoundError(`plugin folder ${dir} has no entry module (looked for ${candidates.join(", ")})`);
}

/** Locates the plugin `specifier` (already normalized) of the project at `root`; throws when it is missing or has no valid manifest. */
export function locatePlugin(specifier: string, root: string): PluginLocation {
  if (isPathSpecifier(specifier)) {
    const target = resolve(root, specifier);
    if (!existsSync(target)) throw new PluginNotFoundError(`plugin "${specifier}" not found: ${target} does not exist`);
    if (statSync(target).isDirectory()) {
      const pkgFile = join(target, "package.json");
      if (!existsSync(pkgFile)) throw new PluginManifestError(`plugin folder ${target} has no package.json with a "${manifestKey}" manifest`);
      const pkg = readJson(pkgFile);
      return { specifier, kind: "folder", entry: folderEntry(target, pkg), manifestSource: pkgFile, manifest: validateManifest(pkg[manifestKey], pkgFile) };
    }
    const manifest = readEmbeddedManifest(readFileSync(target, "utf8"), target);
    if (!manifest) {
      throw new PluginManifestError(
        `${target} is not a compiled plugin (no "${"// hookplugin-manifest:"}" first line): point to the plugin folder, or compile it with \`hookplugins plugin compile\``,
      );
    }
    return { specifier, kind: "file", entry: target, manifestSource: target, manifest };
  }
  const dir = findPackageDir(specifier, root);
  if (!dir) throw new PluginNotFoundError(`plugin package "${specifier}" not found: install it (npm install ${packageNameOf(specifier)}) in ${root}`);
  const pkgFile = join(dir, "package.json");
  return { specifier, kind: "package", entry: specifier, manifestSource: pkgFile, manifest: validateManifest(readJson(pkgFile)[manifestKey], pkgFile) };
}
