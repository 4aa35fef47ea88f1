/**
 * `hookplugins explain [hook]`: the effective order at each hook point, with where each plugin came from.
 */
import { locateAll } from "../../inclusion/projectOps.js";
import { loadPlugin } from "../../inclusion/loadPlugin.js";
import { checkAgreement, checkEngines } from "../../inclusion/checkPlugin.js";
import { createHost } from "../../dispatch/host.js";
import { hookPoints, type HookName } from "../../plugins/hookPoints.js";
import { defaultRegistry } from "../../registry/defaultRegistry.js";
import { nearMissOf } from "../../registry/nearMiss.js";
import { readPluginState } from "../../state/pluginState.js";
import type { CommandContext } from "../context.js";
import { loadProjectExternal } from "./external.js";
import { UsageError, table } from "../output.js";

/** The hook point `name` means: "ContainerPlugin.preCreate", or just "preCreate" when that is unambiguous. */
export function hookNamed(name: string): HookName {
  const exact = hookPoints.find((p) => p.name === name);
  if (exact) return exact.name;
  const byMethod = hookPoints.filter((p) => p.method === name);
  if (byMethod.length === 1) return byMethod[0]!.name;
  const guess = nearMissOf(name, hookPoints.map((p) => p.name)) ?? nearMissOf(name, hookPoints.map((p) => p.method));
  const suggestion = guess === undefined ? "" : ` (did you mean "${guess}"?)`;
  throw new UsageError(`unknown hook point "${name}"${suggestion}; hook points: ${hookPoints.map((p) => p.name).join(", ")}`);
}

/** Runs `hookplugins explain`. */
export async function explainCommand(ctx: CommandContext, hook: string | undefined): Promise<void> {
  const only = hook === undefined ? undefined : hookNamed(hook);
  const project = await ctx.project();
  const { disabled } = await readPluginState(await ctx.stateFile());
  defaultRegistry.clear();
  const sources = new Map<string, string>();
  for (const location of locateAll(project)) {
    checkEngines(location);
    const registered = await loadPlugin(location, project.root);
    checkAgreement(location, registered);
    for (const p of registered) sources.set(`${p.type}:${p.name}`, location.specifier);
  }
  const external = await loadProjectExternal(ctx, defaultRegistry);
  for (const info of external?.set.list() ?? []) for (const type of info.types) sources.set(`${type}:${info.name}`, `${info.source.kind} ${info.source.location}`);
  const host = createHost({ disabled, timeoutMs: 0 });
  const explanation = host.explain();
  await host.close();
  await external?.set.close();
  const points = hookPoints.filter((p) => only === undefined || p.name === only);
  const result = Object.fromEntries(
    points.map((point) => [
      point.name,
      (explanation[point.name] ?? []).map(({ source: _source, ...e }) => ({ ...e, source: sources.get(`${point.type}:${e.plugin}`) ?? "(registered by the host)" })),
    ]),
  );
  if (ctx.out.json) return ctx.out.data(result);
  for (const point of points) {
    const entries = result[point.name]!;
    ctx.out.line(`${point.name} (${point.kind})`);
    if (entries.length === 0) ctx.out.line("  (no plugins)");
    else for (const row of table(["PRIORITY", "PLUGIN", "STATE", "SOURCE"], entries.map((e) => [String(e.priority), e.plugin, e.enabled ? "enabled" : "disabled", e.source]))) ctx.out.line(`  ${row}`);
  }
}
