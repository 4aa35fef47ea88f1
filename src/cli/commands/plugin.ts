/**
 * `hookplugins plugin ...`: Apptainer-style plugin lifecycle on a host project.
 */
import { copyFile, mkdir, rm } from "node:fs/promises";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { checkPlugin } from "../../inclusion/checkPlugin.js";
import { compiledFileName, compilePlugin } from "../../inclusion/compilePlugin.js";
import { isPathSpecifier, locatePlugin, normalizeSpecifier, PluginNotFoundError, type PluginLocation } from "../../inclusion/locatePlugin.js";
import { readEmbeddedManifest } from "../../inclusion/pluginManifest.js";
import { projectPath } from "../../inclusion/projectManifest.js";
import { addPlugins, locateAll, removeInstalledCopy, removePlugins } from "../../inclusion/projectOps.js";
import { locateProjectPlugins, moduleSource, type PluginLoadFailure } from "../../inclusion/projectPlugins.js";
import { hookMethods } from "../../plugins/hookPoints.js";
import { didYouMean } from "../../registry/nearMiss.js";
import type { PluginType } from "../../plugins/interfaces.js";
import { readPluginState, setPluginsEnabled } from "../../state/pluginState.js";
import type { CommandContext } from "../context.js";
import { externalRows, inspectExternal, printExternalList } from "./external.js";
import { loadProjectView, printFailures } from "../projectView.js";

/** A project plugin's name is unknown. */
export class UnknownPluginError extends Error {
  override name = "UnknownPluginError";
}

async function installed(ctx: CommandContext): Promise<PluginLocation[]> {
  return locateAll(await ctx.project());
}

function unknown(name: string, known: readonly PluginLocation[]): UnknownPluginError {
  const names = known.map((l) => l.manifest.name).sort();
  return new UnknownPluginError(
    names.length
      ? `unknown plugin "${name}"${didYouMean(name, names)}; known plugins: ${names.join(", ")}`
      : `unknown plugin "${name}"; there are no plugins installed (add one with \`hookplugins plugin install <folder|package|file>\`)`,
  );
}

/** `plugin list`: ENABLED and NAME of every installed plugin, sorted by name; then external plugins and those that failed to load. */
export async function listCommand(ctx: CommandContext): Promise<void> {
  const { disabled } = await readPluginState(await ctx.stateFile());
  const loaded = await loadProjectView(ctx, "locate");
  const external = externalRows(loaded, disabled);
  await loaded.close();
  const locations = [...loaded.located].sort((a, b) => (a.manifest.name < b.manifest.name ? -1 : a.manifest.name > b.manifest.name ? 1 : 0));
  const rows = locations.map((l) => ({ name: l.manifest.name, enabled: !disabled.includes(l.manifest.name), version: l.manifest.version, specifier: l.specifier }));
  const broken = loaded.failed.filter((f) => f.source.kind === "module");
  if (ctx.out.json) {
    return ctx.out.data([
      ...rows,
      ...broken.map((f) => ({ name: f.name, enabled: !disabled.includes(f.name), specifier: f.source.location, error: f.reason })),
      ...external.map((r) => ({ name: r.name, enabled: r.enabled, version: r.info?.capabilities.Version, source: r.source, running: r.running, ...(r.error !== undefined && { error: r.error }) })),
    ]);
  }
  if (rows.length === 0 && external.length === 0 && broken.length === 0) return ctx.out.line("There are no plugins installed.");
  if (rows.length) {
    ctx.out.line("ENABLED  NAME");
    for (const row of rows) ctx.out.line(`${(row.enabled ? "yes" : "no").padStart(7)}  ${row.name}`);
  }
  printExternalList(ctx, external);
  printFailures(ctx, loaded.failed);
}

/** `plugin enable|disable <name...>`: records the switch in the state file. */
export async function setEnabledCommand(ctx: CommandContext, names: readonly string[], enabled: boolean): Promise<void> {
  const known = await installed(ctx);
  const missing = names.filter((name) => !known.some((l) => l.manifest.name === name));
  const external = missing.length ? await externalNames(ctx) : [];
  for (const name of missing) if (!external.includes(name)) throw unknown(name, known);
  const stateFile = await ctx.stateFile();
  const state = await setPluginsEnabled(stateFile, names, enabled);
  if (ctx.out.json) return ctx.out.data({ [enabled ? "enabled" : "disabled"]: names, stateFile, disabledNow: state.disabled });
  for (const name of names) ctx.out.line(`${enabled ? "Enabled" : "Disabled"} plugin "${name}".`);
}

/** The names of the project's external plugins as its sources name them (unreadable ones included), none started. */
async function externalNames(ctx: CommandContext): Promise<string[]> {
  const [{ externalSourcesOfProject }, { discoverPlugins }] = await Promise.all([import("../../external/projectSources.js"), import("../../external/discovery.js")]);
  const found = await discoverPlugins(await externalSourcesOfProject(ctx.root));
  return [...found.plugins.map((p) => p.name), ...found.problems.map((p) => p.plugin.name)];
}

/** The specifier `inspect` and `uninstall` mean by `nameOrPath`: an installed plugin's name, else a path or package. */
function specifierFor(ctx: CommandContext, known: readonly PluginLocation[], nameOrPath: string): string {
  const byName = known.find((l) => l.manifest.name === nameOrPath);
  return byName ? byName.specifier : normalizeSpecifier(nameOrPath, ctx.cwd, ctx.root);
}

/** `plugin inspect <name|path>`: manifest, interfaces, hook methods and priorities. */
export async function inspectCommand(ctx: CommandContext, nameOrPath: string): Promise<void> {
  const { located: known } = locateProjectPlugins(await ctx.project());
  const { disabled } = await readPluginState(await ctx.stateFile());
  if (!known.some((l) => l.manifest.name === nameOrPath)) {
    const loaded = await loadProjectView(ctx, "locate");
    const row = externalRows(loaded, disabled).find((r) => r.name === nameOrPath);
    await loaded.close();
    if (row) return inspectExternal(ctx, row, loaded.failed.find((f) => f.name === nameOrPath && f.source.kind !== "module"));
    const failure = loaded.failed.find((f) => f.source.kind === "module" && (f.name === nameOrPath || f.source.location === nameOrPath));
    if (failure) return inspectFailure(ctx, failure, disabled);
  }
  const specifier = specifierFor(ctx, known, nameOrPath);
  if (!isPathSpecifier(specifier)) {
    try {
      locatePlugin(specifier, ctx.root);
    } catch (error) {
      if (error instanceof PluginNotFoundError) throw unknown(nameOrPath, known);
      throw error;
    }
  }
  const installedOne = known.find((l) => l.specifier === specifier);
  let checked;
  try {
    checked = await checkPlugin(specifier, ctx.root);
  } catch (error) {
    if (!installedOne) throw error;
    return inspectFailure(ctx, { name: installedOne.manifest.name, source: moduleSource(specifier), reason: (error as Error).message, error: error as Error }, disabled);
  }
  const { location, registered } = checked;
  const m = location.manifest;
  const isInstalled = known.some((l) => l.specifier === location.specifier);
  const project = await ctx.project();
  const interfaces = registered.map((p) => ({
    type: p.type,
    priority: p.priority,
    hooks: hookMethods[p.type as PluginType].filter((method) => p.hooks.includes(`${p.type}.${method}` as never)),
    failPolicy: p.failPolicy,
    ...(p.timeoutMs !== undefined && { timeoutMs: p.timeoutMs }),
  }));
  const info = {
    name: m.name,
    description: m.description ?? "",
    author: m.author ?? "",
    version: m.version,
    engines: m.engines,
    installed: isInstalled,
    // only an installed plugin is switched on or off; for any other the question does not arise (null)
    enabled: isInstalled ? !disabled.includes(m.name) : null,
    source: location.specifier,
    interfaces,
  };
  if (ctx.out.json) return ctx.out.data(info);
  ctx.out.line(`Name: ${info.name}`);
  ctx.out.line(`Description: ${info.description}`);
  ctx.out.line(`Author: ${info.author}`);
  ctx.out.line(`Version: ${info.version}`);
  ctx.out.line(`Engines: hookplugins ${m.engines.hookplugins}`);
  if (isInstalled) {
    ctx.out.line("Installed: yes");
    ctx.out.line(`Enabled: ${info.enabled ? "yes" : "no"}`);
  } else {
    ctx.out.line(`Installed: no (not in ${relative(ctx.cwd, project.manifestPath) || project.manifestPath}; add it with \`hookplugins plugin install ${nameOrPath}\`)`);
  }
  ctx.out.line(`Source: ${info.source}`);
  ctx.out.line("Interfaces:");
  for (const i of interfaces) ctx.out.line(`  ${i.type} (priority ${i.priority}): ${i.hooks.join(", ")}`);
}

/** `plugin inspect` of an installed plugin that cannot be loaded: what is known, then the command fails with the reason. */
function inspectFailure(ctx: CommandContext, failure: PluginLoadFailure, disabled: readonly string[]): never {
  const enabled = !disabled.includes(failure.name);
  if (ctx.out.json) ctx.out.data({ name: failure.name, installed: true, enabled, source: failure.source.location, error: failure.reason });
  else {
    ctx.out.line(`Name: ${failure.name}`);
    ctx.out.line("Installed: yes");
    ctx.out.line(`Enabled: ${enabled ? "yes" : "no"}`);
    ctx.out.line(`Source: ${failure.source.location}`);
    ctx.out.line(`Error: ${failure.reason}`);
  }
  throw failure.error;
}

function isCompiledFile(path: string): boolean {
  if (!existsSync(path) || !statSync(path).isFile()) return false;
  return readEmbeddedManifest(readFileSync(path, "utf8"), path) !== undefined;
}

/** `plugin install <specifier|file>`: checks the plugin and adds it to the build manifest (copying a compiled file in). */
export async function installCommand(ctx: CommandContext, target: string): Promise<void> {
  const path = resolve(ctx.cwd, target);
  let specifier = target;
  let copiedTo: string | undefined;
  let madeCopy = false;
  if (isCompiledFile(path)) {
    const project = await ctx.project();
    const checked = await checkPlugin(normalizeSpecifier(path, ctx.cwd, ctx.root), ctx.root);
    copiedTo = join(projectPath(project, project.manifest.installDir), compiledFileName(checked.location.manifest.name));
    if (resolve(copiedTo) !== path) {
      if (existsSync(copiedTo) && !project.manifest.plugins.includes(normalizeSpecifier(copiedTo, ctx.root, ctx.root))) {
        throw new Error(`plugin install: ${copiedTo} already exists and is not an installed plugin; move it away first, then install again`);
      }
      madeCopy = !existsSync(copiedTo);
      await mkdir(projectPath(project, project.manifest.installDir), { recursive: true });
      await copyFile(path, copiedTo);
    }
    specifier = copiedTo;
  }
  let result;
  try {
    [result] = await addPlugins(ctx.root, [specifier], copiedTo ? ctx.root : ctx.cwd);
  } catch (error) {
    if (madeCopy && copiedTo) await rm(copiedTo, { force: true });
    throw error;
  }
  const location = locatePlugin(result!.specifier, ctx.root);
  if (ctx.out.json) return ctx.out.data({ installed: location.manifest.name, specifier: result!.specifier, alreadyInstalled: !result!.added, ...(copiedTo && { copiedTo }) });
  ctx.out.line(result!.added ? `Installed plugin "${location.manifest.name}" (${result!.specifier}).` : `Plugin "${location.manifest.name}" is already installed (${result!.specifier}).`);
}

/** `plugin uninstall <name>`: removes it from the build manifest (and deletes a copy `install` made). */
export async function uninstallCommand(ctx: CommandContext, name: string): Promise<void> {
  const known = await installed(ctx);
  const location = known.find((l) => l.manifest.name === name) ?? known.find((l) => l.specifier === normalizeSpecifier(name, ctx.cwd, ctx.root));
  if (!location) throw unknown(name, known);
  await removePlugins(ctx.root, [location.specifier], ctx.root);
  const deleted = await removeInstalledCopy(await ctx.project(), location);
  if (ctx.out.json) return ctx.out.data({ uninstalled: location.manifest.name, specifier: location.specifier, deletedFile: deleted });
  ctx.out.line(`Uninstalled plugin "${location.manifest.name}".`);
}

/** `plugin compile <dir>`: one self-contained JS file with the manifest embedded. */
export async function compileCommand(ctx: CommandContext, dir: string, out: string | undefined): Promise<void> {
  const folder = resolve(ctx.cwd, dir);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new Error(`plugin compile: ${folder} is not a folder; give the plugin's folder (the one with its package.json)`);
  }
  const { location } = await checkPlugin(normalizeSpecifier(folder, ctx.cwd, ctx.root), ctx.root);
  const outFile = resolve(ctx.cwd, out ?? compiledFileName(location.manifest.name));
  await compilePlugin(location, outFile);
  if (ctx.out.json) return ctx.out.data({ compiled: location.manifest.name, version: location.manifest.version, file: outFile });
  ctx.out.line(`Compiled plugin "${location.manifest.name}" ${location.manifest.version} into ${relative(ctx.cwd, outFile) || outFile}.`);
}
