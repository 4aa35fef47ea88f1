/**
 * hookplugins/esbuild: an esbuild (and tsup) plugin that compiles a host's chosen plugins into its bundle.
 * `import "hookplugins:plugins"` in the host's code becomes one import per plugin listed in the host's hookplugins.json.
 */
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { Plugin } from "esbuild";
import { checkEngines } from "../inclusion/checkPlugin.js";
import { locatePlugin, normalizeSpecifier, type PluginLocation } from "../inclusion/locatePlugin.js";
import { findProjectRoot, projectPath, readProject } from "../inclusion/projectManifest.js";

/** The specifier hosts import to get their plugins. */
export const virtualPluginsModule = "hookplugins:plugins";

/** Options of hookpluginsEsbuildPlugin. */
export interface HookpluginsEsbuildOptions {
  /** The host project folder holding hookplugins.json; default: the nearest one at or above the working directory. */
  readonly root?: string;
  /** Plugin specifiers added after the manifest's, for this build only (the manifest and generated module stay as they are). */
  readonly extraPlugins?: readonly string[];
  /** Also append `extraPlugins` to the project's generated module while bundling (default true). */
  readonly overlayGenerated?: boolean;
}

function importLine(location: PluginLocation): string {
  return `import ${JSON.stringify(location.entry)};`;
}

/** The esbuild plugin: resolves `hookplugins:plugins`, checks each plugin's manifest and engines range, and adds `extraPlugins`. */
export function hookpluginsEsbuildPlugin(options: HookpluginsEsbuildOptions = {}): Plugin {
  return {
    name: "hookplugins",
    async setup(build) {
      const root = resolve(options.root ?? findProjectRoot(process.cwd()));
      const project = await readProject(root);
      if (!project.exists) {
        throw new Error(
          `hookplugins esbuild plugin: no hookplugins.json in ${options.root === undefined ? `${root} or above` : root}; run \`hookplugins init\` in the host project, or pass { root: "<the folder holding hookplugins.json>" }`,
        );
      }
      const extras = (options.extraPlugins ?? []).map((s) => normalizeSpecifier(s, process.cwd(), root));
      const locate = (specifiers: readonly string[]): PluginLocation[] =>
        specifiers.map((specifier) => {
          const location = locatePlugin(specifier, root);
          checkEngines(location);
          return location;
        });
      const watchFiles = (locations: readonly PluginLocation[]): string[] => [project.manifestPath, ...locations.map((l) => l.manifestSource)];

      build.onResolve({ filter: /^hookplugins:plugins$/ }, () => ({ path: "plugins", namespace: "hookplugins" }));
      build.onLoad({ filter: /.*/, namespace: "hookplugins" }, async () => {
        const current = await readProject(root);
        const specifiers = [...current.manifest.plugins, ...extras.filter((s) => !current.manifest.plugins.includes(s))];
        const locations = locate(specifiers);
        const contents = [
          ...locations.map(importLine),
          `export const includedPlugins = ${JSON.stringify(locations.map((l) => l.specifier))};`,
          "",
        ].join("\n");
        return { contents, loader: "js", resolveDir: root, watchFiles: watchFiles(locations) };
      });

      if (extras.length > 0 && options.overlayGenerated !== false && project.manifest.generated !== false) {
        const generated = projectPath(project, project.manifest.generated);
        const escaped = generated.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        build.onLoad({ filter: new RegExp(`^${escaped}$`) }, async () => {
          const locations = locate(extras.filter((s) => !project.manifest.plugins.includes(s)));
          const original = await readFile(generated, "utf8");
          const contents = `${original}\n// Added for this build only (--add-plugin):\n${locations.map(importLine).join("\n")}\n`;
          return { contents, loader: "ts", resolveDir: dirname(generated), watchFiles: [generated, ...watchFiles(locations)] };
        });
      }
    },
  };
}
