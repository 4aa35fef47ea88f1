/**
 * `hookplugins explain [hook]`: the effective order at each hook point, with where each plugin came from.
 */
import { describePluginSource } from "../../inclusion/projectPlugins.js";
import { createHost } from "../../dispatch/host.js";
import { hookPoints, type DispatchKind, type HookName } from "../../plugins/hookPoints.js";
import { defaultRegistry } from "../../registry/defaultRegistry.js";
import { didYouMean } from "../../registry/nearMiss.js";
import { readPluginState } from "../../state/pluginState.js";
import type { CommandContext } from "../context.js";
import { UsageError, table } from "../output.js";
import { failureJson, loadProjectView, printFailures } from "../projectView.js";

/** The hook point `name` means: "ContainerPlugin.preCreate", or just "preCreate" when that is unambiguous. */
export function hookNamed(name: string): HookName {
  const exact = hookPoints.find((p) => p.name === name);
  if (exact) return exact.name;
  const byMethod = hookPoints.filter((p) => p.method === name);
  if (byMethod.length === 1) return byMethod[0]!.name;
  const suggestion = didYouMean(name, hookPoints.map((p) => p.name)) || didYouMean(name, hookPoints.map((p) => p.method));
  throw new UsageError(`unknown hook point "${name}"${suggestion}; hook points: ${hookPoints.map((p) => p.name).join(", ")}`);
}

/** What the order means at the dispatch kinds where it is not "each in turn, each seeing the last one's result". */
const kindNotes: Partial<Record<DispatchKind, string>> = {
  bail: ": providers, asked in this order; the first answer wins",
  observe: ": every plugin runs, in this order, even when one fails",
};

/** Runs `hookplugins explain`: plugins that failed to load are shown after the order, with their source and the reason. */
export async function explainCommand(ctx: CommandContext, hook: string | undefined): Promise<void> {
  const only = hook === undefined ? undefined : hookNamed(hook);
  const { disabled } = await readPluginState(await ctx.stateFile());
  defaultRegistry.clear();
  const loaded = await loadProjectView(ctx, "load");
  const sources = new Map(loaded.plugins.map((p) => [`${p.type}:${p.name}`, describePluginSource(p.source)]));
  const host = createHost({ disabled, timeoutMs: 0 });
  const explanation = host.explain();
  await host.close();
  await loaded.close();
  const points = hookPoints.filter((p) => only === undefined || p.name === only);
  const result: Record<string, unknown> = Object.fromEntries(
    points.map((point) => [
      point.name,
      (explanation[point.name] ?? []).map(({ source: _source, ...e }) => ({ ...e, source: sources.get(`${point.type}:${e.plugin}`) ?? "(registered by the host)" })),
    ]),
  );
  // hook point names hold a dot, so this key never clashes with one
  if (loaded.failed.length) result["failed"] = loaded.failed.map(failureJson);
  if (ctx.out.json) return ctx.out.data(result);
  for (const point of points) {
    const entries = result[point.name] as { priority: number; plugin: string; enabled: boolean; source: string }[];
    ctx.out.line(`${point.name} (${point.kind}${kindNotes[point.kind] ?? ""})`);
    if (entries.length === 0) ctx.out.line("  (no plugins)");
    else for (const row of table(["PRIORITY", "PLUGIN", "STATE", "SOURCE"], entries.map((e) => [String(e.priority), e.plugin, e.enabled ? "enabled" : "disabled", e.source]))) ctx.out.line(`  ${row}`);
  }
  printFailures(ctx, loaded.failed);
}
