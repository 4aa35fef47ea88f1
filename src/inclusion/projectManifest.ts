/**
 * The host project's build manifest, `hookplugins.json`: which plugins go into the build, in order, and where the
 * generated module and the state file live.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { didYouMean } from "../registry/nearMiss.js";
import { writeFileAtomic } from "../state/atomicWrite.js";

/** The manifest's file name, at the host project's root. */
export const projectManifestName = "hookplugins.json";

/** What `hookplugins.json` holds. */
export interface ProjectManifest {
  /** Plugin specifiers in inclusion order (= registration order = tie-break at equal priority). */
  readonly plugins: readonly string[];
  /** The generated module, relative to the project root; false when the host uses the esbuild plugin's virtual module only. */
  readonly generated: string | false;
  /** The plugin state file, relative to the project root. */
  readonly stateFile: string;
  /** Where `plugin install <file>` copies compiled plugins, relative to the project root. */
  readonly installDir: string;
  /** Where external plugins (own processes) are found; folders relative to the project root. */
  readonly external?: ExternalSourcesManifest;
}

/** The `external` key of hookplugins.json: folders of plugin sockets, spec files and executables. */
export interface ExternalSourcesManifest {
  /** Folders holding `<name>.sock` or `<name>/<name>.sock`. */
  readonly socketDirs?: readonly string[];
  /** Folders holding `<name>.spec` or `<name>.json` spec files. */
  readonly specDirs?: readonly string[];
  /** Folders of executable plugins. */
  readonly executableDirs?: readonly string[];
  /** Whether spec files may point at tcp:// addresses. */
  readonly allowTcp?: boolean;
}

/** Every key the "external" object of hookplugins.json may hold. */
const externalKeys: readonly string[] = ["socketDirs", "specDirs", "executableDirs", "allowTcp"] satisfies readonly (keyof ExternalSourcesManifest)[];

function parseExternal(path: string, value: unknown): ExternalSourcesManifest | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ProjectManifestError(`${path}: "external" must be an object like {"socketDirs": [...], "specDirs": [...], "executableDirs": [...], "allowTcp": false}`);
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!externalKeys.includes(key)) {
      throw new ProjectManifestError(`${path}: "external.${key}" is not a known key${didYouMean(key, externalKeys)}; rename or remove it (known keys: ${externalKeys.join(", ")})`);
    }
  }
  for (const key of ["socketDirs", "specDirs", "executableDirs"]) {
    const dirs = record[key];
    if (dirs !== undefined && (!Array.isArray(dirs) || !dirs.every((d) => typeof d === "string" && d !== ""))) {
      throw new ProjectManifestError(`${path}: "external.${key}" must be an array of folder paths`);
    }
  }
  if (record["allowTcp"] !== undefined && typeof record["allowTcp"] !== "boolean") throw new ProjectManifestError(`${path}: "external.allowTcp" must be true or false`);
  return record as ExternalSourcesManifest;
}

/** Every key hookplugins.json may hold; any other key is an error (a typo would otherwise be ignored silently). */
export const projectManifestKeys: readonly (keyof ProjectManifest)[] = ["plugins", "generated", "stateFile", "installDir", "external"];

/** Defaults for every key but `plugins`. */
export const projectManifestDefaults: Omit<ProjectManifest, "plugins"> = {
  generated: "src/plugins.generated.ts",
  stateFile: ".hookplugins/state.json",
  installDir: "plugins",
};

/** A host project: its root folder and its manifest. */
export interface Project {
  /** The folder holding hookplugins.json. */
  readonly root: string;
  /** The manifest file path. */
  readonly manifestPath: string;
  /** Whether the manifest file exists yet. */
  readonly exists: boolean;
  /** The manifest (defaults when the file does not exist). */
  readonly manifest: ProjectManifest;
}

/** The project manifest is unreadable or invalid. */
export class ProjectManifestError extends Error {
  override name = "ProjectManifestError";
}

/** There is no hookplugins.json in a folder or above it. */
export class ProjectNotFoundError extends Error {
  override name = "ProjectNotFoundError";
  /** The folder the search started from. */
  readonly from: string;

  /** Creates the error for a search that started at `from`. */
  constructor(from: string) {
    super(`no ${projectManifestName} in ${from} or above; run \`hookplugins init\` in the host project's folder (or pass -C <project folder>)`);
    this.from = from;
  }
}

/** The nearest folder at or above `from` that holds hookplugins.json, or undefined when there is none. */
export function locateProjectRoot(from: string): string | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, projectManifestName))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/** The nearest folder at or above `from` that holds hookplugins.json, else `from` itself. */
export function findProjectRoot(from: string): string {
  return locateProjectRoot(from) ?? resolve(from);
}

function parseManifest(path: string, text: string): ProjectManifest {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new ProjectManifestError(`${path} is not valid JSON (${(error as Error).message}); fix the syntax`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) throw new ProjectManifestError(`${path} must hold a JSON object, like {"plugins": []}`);
  const record = data as Record<string, unknown>;
  const known: readonly string[] = projectManifestKeys;
  for (const key of Object.keys(record)) {
    if (known.includes(key)) continue;
    throw new ProjectManifestError(`${path}: unknown key "${key}"${didYouMean(key, known)}; rename or remove it (known keys: ${known.join(", ")})`);
  }
  const plugins = record["plugins"] ?? [];
  if (!Array.isArray(plugins) || !plugins.every((p): p is string => typeof p === "string" && p !== "")) {
    throw new ProjectManifestError(`${path}: "plugins" must be an array of plugin specifiers (folder paths or package names), like ["./plugins/netns"]`);
  }
  const text_ = (key: "stateFile" | "installDir"): string => {
    const value = record[key] ?? projectManifestDefaults[key];
    if (typeof value !== "string" || value === "") throw new ProjectManifestError(`${path}: "${key}" must be a non-empty path`);
    return value;
  };
  const generated = record["generated"] ?? projectManifestDefaults.generated;
  if (generated !== false && (typeof generated !== "string" || generated === "")) {
    throw new ProjectManifestError(`${path}: "generated" must be a non-empty path, or false for no generated module`);
  }
  const external = parseExternal(path, record["external"]);
  return { plugins, generated, stateFile: text_("stateFile"), installDir: text_("installDir"), ...(external && { external }) };
}

/** Reads the project at `root` (its hookplugins.json, or defaults when there is none). */
export async function readProject(root: string): Promise<Project> {
  const manifestPath = join(root, projectManifestName);
  let text: string;
  try {
    text = await readFile(manifestPath, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    return { root, manifestPath, exists: false, manifest: { plugins: [], ...projectManifestDefaults } };
  }
  return { root, manifestPath, exists: true, manifest: parseManifest(manifestPath, text) };
}

/** Renders a manifest as the file's text (stable key order, two-space indent). */
export function formatProjectManifest(manifest: ProjectManifest): string {
  const { plugins, generated, stateFile, installDir, external } = manifest;
  return `${JSON.stringify({ plugins, generated, stateFile, installDir, ...(external && { external }) }, null, 2)}\n`;
}

/** Writes the manifest atomically. */
export async function writeProject(project: Project, manifest: ProjectManifest): Promise<void> {
  await writeFileAtomic(project.manifestPath, formatProjectManifest(manifest));
}

/** Resolves a project-relative path (absolute paths stay as they are). */
export function projectPath(project: Pick<Project, "root">, path: string): string {
  return isAbsolute(path) ? path : join(project.root, path);
}
