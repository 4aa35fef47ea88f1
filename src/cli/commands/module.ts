/**
 * `hookplugins module`: the build-time plugin list (PouchContainer's `hack/module --add-plugin`).
 */
import { relative } from "node:path";
import { addPlugins, cleanPlugins, locateAll, removePlugins, syncGenerated } from "../../inclusion/projectOps.js";
import { projectPath } from "../../inclusion/projectManifest.js";
import type { CommandContext } from "../context.js";
import { table } from "../output.js";

/** The options of `hookplugins module`. */
export interface ModuleOptions {
  /** Specifiers to add. */
  readonly addPlugin: string[];
  /** Specifiers to remove. */
  readonly removePlugin: string[];
  /** Print the list. */
  readonly list?: boolean;
  /** Remove every plugin. */
  readonly clean?: boolean;
}

/** Runs `hookplugins module`: clean, then remove, then add, then list; with no option, rewrites the generated module. */
export async function moduleCommand(ctx: CommandContext, options: ModuleOptions): Promise<void> {
  const report: Record<string, unknown> = {};
  const say = (text: string): void => {
    if (!ctx.out.json) ctx.out.line(text);
  };
  const changes = options.clean || options.removePlugin.length > 0 || options.addPlugin.length > 0;
  if (options.clean) {
    report["cleaned"] = await cleanPlugins(ctx.root);
    say(`Removed every plugin from the build (${(report["cleaned"] as string[]).length} removed).`);
  }
  if (options.removePlugin.length > 0) {
    const { removed, absent } = await removePlugins(ctx.root, options.removePlugin, ctx.cwd);
    report["removed"] = removed;
    report["notIncluded"] = absent;
    for (const s of removed) say(`Removed plugin "${s}".`);
    for (const s of absent) say(`Plugin "${s}" is not included; nothing to remove.`);
  }
  if (options.addPlugin.length > 0) {
    const results = await addPlugins(ctx.root, options.addPlugin, ctx.cwd);
    report["added"] = results.filter((r) => r.added).map((r) => r.specifier);
    report["alreadyIncluded"] = results.filter((r) => !r.added).map((r) => r.specifier);
    for (const r of results) {
      if (!r.added) say(`Plugin "${r.specifier}" is already included.`);
      else {
        const types = [...new Set(r.checked!.registered.map((p) => p.type))].join(", ");
        say(`Added plugin "${r.specifier}" (${r.checked!.location.manifest.name} ${r.checked!.location.manifest.version}: ${types}).`);
      }
    }
  }
  if (!changes && !options.list) {
    const file = await syncGenerated(ctx.root);
    say(file ? `Wrote ${relative(ctx.cwd, file) || file}.` : "This project has no generated module (\"generated\": false); nothing to write.");
  }
  const project = await ctx.project();
  report["generated"] = project.manifest.generated === false ? null : projectPath(project, project.manifest.generated);
  if (options.list) {
    const locations = locateAll(project);
    report["plugins"] = locations.map((l) => ({ specifier: l.specifier, name: l.manifest.name, version: l.manifest.version }));
    if (locations.length === 0) say("No plugins are included in the build.");
    else for (const row of table(["#", "NAME", "VERSION", "SPECIFIER"], locations.map((l, i) => [String(i + 1), l.manifest.name, l.manifest.version, l.specifier]))) say(row);
  }
  if (ctx.out.json) ctx.out.data({ ...report, plugins: report["plugins"] ?? project.manifest.plugins });
}
