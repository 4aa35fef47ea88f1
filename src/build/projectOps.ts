/**
 * Edits of a host project's plugin list: add (after every check), remove, clean, regenerate the generated module.
 * The manifest and the generated module are changed together, under the manifest's lock, or not at all.
 */
import { readFile, rm } from "node:fs/promises";
import { withLock } from "../state/lockFile.js";
import { writeFileAtomic } from "../state/atomicWrite.js";
import { checkPlugin, type CheckedPlugin } from "./checkPlugin.js";
import { renderGeneratedModule } from "./generatedModule.js";
import { locatePlugin, normalizeSpecifier, type PluginLocation } from "./locatePlugin.js";
import { PluginManifestError } from "./pluginManifest.js";
import { projectPath, readProject, writeProject, type Project, type ProjectManifest } from "./projectManifest.js";

/** Locates every plugin of the project's manifest, in order. */
export function locateAll(project: Project, manifest: ProjectManifest = project.manifest): PluginLocation[] {
  return manifest.plugins.map((specifier) => locatePlugin(specifier, project.root));
}

/** Writes the generated module for `manifest` (only when its text changes); returns its path (undefined when there is none). */
export async function writeGenerated(project: Project, manifest: ProjectManifest): Promise<string | undefined> {
  if (manifest.generated === false) {
    locateAll(project, manifest);
    return undefined;
  }
  const file = projectPath(project, manifest.generated);
  const text = renderGeneratedModule(locateAll(project, manifest), file);
  const current = await readFile(file, "utf8").catch(() => undefined);
  if (current !== text) await writeFileAtomic(file, text);
  return file;
}

async function edit<T>(root: string, change: (project: Project) => Promise<{ manifest: ProjectManifest; result: T }>): Promise<T> {
  return withLock(`${projectPath({ root }, ".hookplugins.json.lock")}`, async () => {
    const project = await readProject(root);
    const { manifest, result } = await change(project);
    await writeGenerated(project, manifest);
    await writeProject(project, manifest);
    return result;
  });
}

/** What an add did for one specifier. */
export interface AddResult {
  /** The specifier as stored. */
  readonly specifier: string;
  /** False when it was already included (nothing changed). */
  readonly added: boolean;
  /** The check's result, when it was checked (newly added plugins). */
  readonly checked?: CheckedPlugin;
}

/** Adds plugins after checking each; any failure leaves the manifest and the generated module unchanged. */
export async function addPlugins(root: string, specifiers: readonly string[], cwd: string): Promise<AddResult[]> {
  return edit(root, async (project) => {
    const plugins = [...project.manifest.plugins];
    const results: AddResult[] = [];
    const names = new Map(locateAll(project).map((l) => [l.manifest.name, l.specifier]));
    for (const raw of specifiers) {
      const specifier = normalizeSpecifier(raw, cwd, project.root);
      if (plugins.includes(specifier)) {
        results.push({ specifier, added: false });
        continue;
      }
      const checked = await checkPlugin(specifier, project.root);
      const clash = names.get(checked.location.manifest.name);
      if (clash !== undefined) {
        throw new PluginManifestError(`plugin "${checked.location.manifest.name}" (${specifier}) has the same name as the already included ${clash}; remove that one first`);
      }
      names.set(checked.location.manifest.name, specifier);
      plugins.push(specifier);
      results.push({ specifier, added: true, checked });
    }
    return { manifest: { ...project.manifest, plugins }, result: results };
  });
}

/** Removes plugins by specifier; specifiers that are not included are reported, not errors. Returns the removed ones. */
export async function removePlugins(root: string, specifiers: readonly string[], cwd: string): Promise<{ removed: string[]; absent: string[] }> {
  return edit(root, async (project) => {
    const wanted = specifiers.map((raw) => normalizeSpecifier(raw, cwd, project.root));
    const removed = wanted.filter((s) => project.manifest.plugins.includes(s));
    const absent = wanted.filter((s) => !removed.includes(s));
    return { manifest: { ...project.manifest, plugins: project.manifest.plugins.filter((s) => !wanted.includes(s)) }, result: { removed, absent } };
  });
}

/** Empties the plugin list; returns the specifiers it removed. */
export async function cleanPlugins(root: string): Promise<string[]> {
  return edit(root, async (project) => ({ manifest: { ...project.manifest, plugins: [] }, result: [...project.manifest.plugins] }));
}

/** Rewrites the generated module from the manifest as it is (creating the manifest when missing); returns its path. */
export async function syncGenerated(root: string): Promise<string | undefined> {
  return edit(root, async (project) => ({
    manifest: project.manifest,
    result: project.manifest.generated === false ? undefined : projectPath(project, project.manifest.generated),
  }));
}

/** Removes a file `install` copied into the project, if `specifier` is one. */
export async function removeInstalledCopy(project: Project, location: PluginLocation): Promise<boolean> {
  const installDir = projectPath(project, project.manifest.installDir);
  if (location.kind !== "file" || !location.entry.startsWith(`${installDir}/`)) return false;
  await rm(location.entry, { force: true });
  return true;
}
