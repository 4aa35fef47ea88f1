/**
 * The one way a host project's plugins are loaded into this process, for `explain`, `plugin list` and `inspect`, the
 * Docker bridge, the Docker proxy and the CRI relay: the in-process plugins of hookplugins.json's "plugins" (located,
 * checked, imported into the default registry, in order), then the external plugins its "external" sources hold.
 * A plugin that cannot be loaded either fails the load or is reported with its source and the reason.
 */
import { ExternalPluginLoadError, loadExternalPlugins, type ExternalPluginOptions, type ExternalPlugins } from "../external/externalPlugins.js";
import { externalSourcesOfProject, hasExternalSources } from "../external/projectSources.js";
import type { PluginType } from "../plugins/interfaces.js";
import type { PluginSource } from "../plugins/source.js";
import { defaultRegistry } from "../registry/defaultRegistry.js";
import { checkAgreement, checkEngines } from "./checkPlugin.js";
import { loadPlugin } from "./loadPlugin.js";
import { locatePlugin, type PluginLocation } from "./locatePlugin.js";
import { readProject, type Project } from "./projectManifest.js";

/** A plugin of the project that could not be loaded: where it comes from, and why. */
export interface PluginLoadFailure {
  /** Its name; for an in-process plugin whose manifest cannot be read, its specifier. */
  readonly name: string;
  /** An in-process plugin: kind "module" and its specifier; an external one: its socket, spec file or executable. */
  readonly source: PluginSource;
  /** Why it could not be loaded. */
  readonly reason: string;
  /** The error (its message names the plugin, the source and the reason). */
  readonly error: Error;
}

/** One plugin object registered in the default registry by a project plugin. */
export interface LoadedProjectPlugin {
  /** Its name. */
  readonly name: string;
  /** The interface it is registered as. */
  readonly type: PluginType;
  /** An in-process plugin: kind "module" and its specifier; an external one: where it was found. */
  readonly source: PluginSource;
}

/** A project's plugins, loaded. */
export interface ProjectPlugins {
  /** The project. */
  readonly project: Project;
  /** The in-process plugins that were located (and, unless only located, loaded), in manifest order. */
  readonly located: readonly PluginLocation[];
  /** Every plugin object registered, in registration order: in-process plugins first, then external ones. */
  readonly plugins: readonly LoadedProjectPlugin[];
  /** The plugins that could not be loaded (always empty with onLoadError "throw"), in-process ones first. */
  readonly failed: readonly PluginLoadFailure[];
  /** The external plugins, when the project declares sources (closing a host made with them stops them too). */
  readonly external: ExternalPlugins | undefined;
  /** Stops the external plugins (a no-op without them). */
  close(): Promise<void>;
}

/** How loadProjectPlugins loads. */
export interface LoadProjectPluginsOptions {
  /**
   * "throw" (default, for hosts that serve the plugins: no check may be silently missing): the first plugin that
   * cannot be loaded fails the load. "report" (for the commands that show plugins): it is left out and listed in
   * `failed`, and so are the files in the external sources that are not usable plugins.
   */
  readonly onLoadError?: "throw" | "report";
  /** "load" (default): import each in-process plugin; "locate": only find it and check its manifest (nothing runs). */
  readonly inProcess?: "load" | "locate";
  /** Retry and time limits of the external plugins. */
  readonly external?: Omit<ExternalPluginOptions, "onLoadError">;
}

/** The source of the in-process plugin `specifier`. */
export function moduleSource(specifier: string): PluginSource {
  return { kind: "module", location: specifier };
}

/** A source as the CLI shows it: an in-process plugin's specifier, or "<kind> <path>" for an external one. */
export function describePluginSource(source: PluginSource): string {
  return source.kind === "module" ? source.location : `${source.kind} ${source.location}`;
}

function failureOf(name: string, source: PluginSource, error: unknown): PluginLoadFailure {
  const failure = error instanceof Error ? error : new Error(String(error));
  const reason = (failure as { reason?: unknown }).reason;
  return { name, source, reason: typeof reason === "string" ? reason : failure.message, error: failure };
}

/**
 * Locates every in-process plugin of `project` and checks that it accepts this library's version, without running
 * it; a plugin that fails is reported (`failed`), never thrown.
 */
export function locateProjectPlugins(project: Project): { located: PluginLocation[]; failed: PluginLoadFailure[] } {
  const located: PluginLocation[] = [];
  const failed: PluginLoadFailure[] = [];
  for (const specifier of project.manifest.plugins) {
    let location: PluginLocation | undefined;
    try {
      location = locatePlugin(specifier, project.root);
      checkEngines(location);
      located.push(location);
    } catch (error) {
      failed.push(failureOf(location?.manifest.name ?? specifier, moduleSource(specifier), error));
    }
  }
  return { located, failed };
}

/** Locates, checks and (unless `locateOnly`) imports the in-process plugins, in manifest order. */
async function loadInProcess(project: Project, report: boolean, locateOnly: boolean): Promise<Pick<ProjectPlugins, "located" | "plugins" | "failed">> {
  const found = locateProjectPlugins(project);
  if (!report && found.failed.length) throw found.failed[0]!.error;
  if (locateOnly) return { ...found, plugins: [] };
  const plugins: LoadedProjectPlugin[] = [];
  const located: PluginLocation[] = [];
  const failed = [...found.failed];
  for (const location of found.located) {
    const before = Math.max(0, ...defaultRegistry.list().map((p) => p.seq));
    try {
      const registered = await loadPlugin(location, project.root);
      checkAgreement(location, registered);
      for (const p of registered) plugins.push({ name: p.name, type: p.type, source: moduleSource(location.specifier) });
      located.push(location);
    } catch (error) {
      if (!report) throw error;
      defaultRegistry.unregisterAfter(before);
      failed.push(failureOf(location.manifest.name, moduleSource(location.specifier), error));
    }
  }
  return { located, plugins, failed };
}

/** The failures of the external plugins: those that could not be activated, and the files that are not usable plugins. */
function externalFailures(external: ExternalPlugins): PluginLoadFailure[] {
  return [
    ...external.failed.map((error) => failureOf(error.plugin, error.source!, error)),
    ...external.problems.map((p) => failureOf(p.plugin.name, p.plugin.source, new ExternalPluginLoadError(p.plugin.name, p.path, p.problem, undefined, p.plugin.source))),
  ];
}

/**
 * Loads the plugins of the project at `root` into the default registry: its in-process plugins in manifest order,
 * then the external plugins of its "external" sources. With `onLoadError` "report", a plugin that cannot be loaded
 * is listed in `failed` with its source and the reason; with "throw", it fails the load, and so does a file in the
 * external sources that is not a usable plugin (a spec file that cannot be read, a second plugin of one name).
 */
export async function loadProjectPlugins(root: string, options: LoadProjectPluginsOptions = {}): Promise<ProjectPlugins> {
  const report = options.onLoadError === "report";
  const project = await readProject(root);
  const inProcess = await loadInProcess(project, report, options.inProcess === "locate");
  const plugins = [...inProcess.plugins];
  const failed = [...inProcess.failed];
  const sources = await externalSourcesOfProject(root);
  let external: ExternalPlugins | undefined;
  if (hasExternalSources(sources)) {
    external = await loadExternalPlugins(defaultRegistry, sources, { ...options.external, onLoadError: report ? "skip" : "throw" });
    for (const info of external.list()) for (const type of info.types) plugins.push({ name: info.name, type, source: info.source });
    const problems = externalFailures(external);
    if (!report && problems.length) {
      await external.close();
      throw problems.length === 1 ? problems[0]!.error : new AggregateError(problems.map((p) => p.error), `${problems.length} external plugins could not be loaded: ${problems.map((p) => p.error.message).join("; ")}`);
    }
    failed.push(...problems);
  }
  const close = async (): Promise<void> => external?.close();
  return { project, located: inProcess.located, plugins, failed, external, close };
}
