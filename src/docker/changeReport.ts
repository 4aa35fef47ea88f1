/**
 * What the bridge says when plugins would change a request Docker cannot take back changed: the net leaf changes
 * between the request and the plugins' result, each with the plugins that changed it (from the run's audit).
 */
import { diffLeaves, type AuditEntry } from "hookplugins";

/** One field the plugins changed, and who changed it. */
export interface AttributedChange {
  /** JSON pointer of the field. */
  readonly pointer: string;
  /** The plugins that changed it, in the order they ran. */
  readonly plugins: readonly string[];
  /** The value in the request (undefined: absent). */
  readonly before: unknown;
  /** The value the plugins left (undefined: removed). */
  readonly after: unknown;
}

function related(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}

/** The net changes from `original` to `final`, each attributed through `audit` (a field changed and changed back is not one). */
export function attributeChanges(original: unknown, final: unknown, audit: readonly AuditEntry[]): AttributedChange[] {
  return diffLeaves(original, final).map((change) => {
    const plugins = [...new Set(audit.filter((entry) => related(entry.pointer, change.pointer)).map((entry) => entry.plugin))];
    return { pointer: change.pointer, plugins: plugins.length ? plugins : ["an unknown plugin"], before: change.before, after: change.after };
  });
}

function show(value: unknown): string {
  if (value === undefined) return "absent";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * Runs a create hook (preCreate, preVolumeCreate) through `run`, which may change `config` in place, and resolves
 * with the plugins' result and its net changes from `config` as it was before, attributed through the run's audit.
 */
export async function runAttributed(config: object, run: (audit: AuditEntry[]) => Promise<unknown>): Promise<{ final: unknown; changes: AttributedChange[] }> {
  const audit: AuditEntry[] = [];
  // a decoded JSON body: structuredClone copies it exactly
  const original: unknown = structuredClone(config);
  const final = await run(audit);
  return { final, changes: attributeChanges(original, final, audit) };
}

/** "/HostConfig/Memory by envlimits (0 -> 536870912), /Env by envlimits (...)". */
export function describeChanges(changes: readonly AttributedChange[]): string {
  return changes.map((c) => `${c.pointer} by ${c.plugins.join(" and ")} (${show(c.before)} -> ${show(c.after)})`).join(", ");
}
