/**
 * Which file extension a host project's generated module gets: `.ts` in a TypeScript project, else a JavaScript
 * ES module extension its package can import (`.js` under `"type": "module"`, `.mjs` otherwise).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** The generated module's extension for a project, and why it was chosen. */
export interface ProjectLanguage {
  /** "ts", "js" or "mjs". */
  readonly extension: "ts" | "js" | "mjs";
  /** What decided it, for the user ("tsconfig.json found", ...). */
  readonly reason: string;
}

const skipped = new Set(["node_modules", "dist", "build", "coverage"]);

/** The first TypeScript source (not a .d.ts) under `dir`, at most `depth` folders down; undefined when there is none. */
function findTypeScriptSource(dir: string, depth: number): string | undefined {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    if (entry.isFile() && /\.(m|c)?tsx?$/.test(entry.name) && !/\.d\.(m|c)?ts$/.test(entry.name)) return join(dir, entry.name);
  }
  if (depth === 0) return undefined;
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith(".") || skipped.has(entry.name)) continue;
    const found = findTypeScriptSource(join(dir, entry.name), depth - 1);
    if (found) return found;
  }
  return undefined;
}

function readPackageJson(root: string): Record<string, unknown> | undefined {
  try {
    const data: unknown = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    return typeof data === "object" && data !== null ? (data as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Detects the project's language from tsconfig.json, TypeScript sources, a typescript dependency, and package.json's "type". */
export function detectProjectLanguage(root: string): ProjectLanguage {
  if (existsSync(join(root, "tsconfig.json"))) return { extension: "ts", reason: "tsconfig.json found" };
  const source = findTypeScriptSource(root, 3);
  if (source) return { extension: "ts", reason: `TypeScript source ${source.slice(root.length + 1)} found` };
  const pkg = readPackageJson(root);
  const deps = { ...(pkg?.["dependencies"] as object | undefined), ...(pkg?.["devDependencies"] as object | undefined) };
  if ("typescript" in deps) return { extension: "ts", reason: "package.json depends on typescript" };
  if (pkg?.["type"] === "module") return { extension: "js", reason: 'no TypeScript found; package.json has "type": "module"' };
  return { extension: "mjs", reason: 'no TypeScript found, and package.json does not say "type": "module"' };
}
