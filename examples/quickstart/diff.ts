/**
 * A compact, line-per-field diff of two JSON values, for showing what plugins changed.
 */

function flatten(value: unknown, prefix: string, out: Map<string, string>): void {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0 && prefix) out.set(prefix, "{}");
    for (const [key, inner] of entries) flatten(inner, prefix ? `${prefix}.${key}` : key, out);
    return;
  }
  out.set(prefix, JSON.stringify(value));
}

/** Lines "+ path: new", "- path: old", "~ path: old -> new" for every leaf that differs (arrays are leaves). */
export function jsonDiff(before: unknown, after: unknown): string[] {
  const a = new Map<string, string>();
  const b = new Map<string, string>();
  flatten(before, "", a);
  flatten(after, "", b);
  const lines: string[] = [];
  for (const [path, old] of a) {
    const now = b.get(path);
    if (now === undefined) lines.push(`- ${path}: ${old}`);
    else if (now !== old) lines.push(`~ ${path}: ${old} -> ${now}`);
  }
  for (const [path, now] of b) if (!a.has(path)) lines.push(`+ ${path}: ${now}`);
  return lines;
}
