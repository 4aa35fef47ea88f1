/**
 * The TypeScript snippets of the project's Markdown (README.md, docs/, the shipped plugins' and the examples'
 * READMEs), read for compiling. A snippet compiles as it is written; the context it leaves out (a host's own
 * variables, its generated module) is given in an HTML comment right before it, which Markdown does not render:
 *
 *     <!-- snippet {"prelude": "declare const body: ContainerCreateConfig;", "files": {"plugins.generated.ts": "export {};"}} -->
 *
 * Keys: `prelude` (TypeScript put before the snippet), `files` (more files, relative to the snippet's folder),
 * `copy` (repo folders copied under the snippet's folder, such as a shipped plugin), `as` (the snippet's own path in
 * its folder; default main.ts), `repo` (true: the snippet is for this repository's contributors and compiles in the
 * repo, not in a consumer project).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** How a snippet is compiled. */
export interface SnippetContext {
  /** TypeScript put before the snippet (declarations of what the snippet takes as given). */
  readonly prelude?: string;
  /** Further files, by path relative to the snippet's folder. */
  readonly files?: Readonly<Record<string, string>>;
  /** Folders of the repository copied under the snippet's folder at the same relative path. */
  readonly copy?: readonly string[];
  /** The snippet's path in its folder (default main.ts). */
  readonly as?: string;
  /** Compiles in the repository (a contributor's snippet), not in a consumer project. */
  readonly repo?: boolean;
}

/** One TypeScript snippet of a Markdown file. */
export interface Snippet {
  /** The Markdown file, relative to the repo. */
  readonly file: string;
  /** The line of its opening fence (1-based). */
  readonly line: number;
  /** Its code. */
  readonly code: string;
  /** Its context. */
  readonly context: SnippetContext;
}

const contextKeys = new Set(["prelude", "files", "copy", "as", "repo"]);

/** The Markdown files whose TypeScript snippets must compile. */
export function markdownFiles(repoRoot: string): string[] {
  const files = ["README.md"];
  const add = (dir: string, depth: number): void => {
    for (const entry of readdirSync(join(repoRoot, dir), { withFileTypes: true })) {
      if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory() && depth > 0) add(path, depth - 1);
      else if (entry.isFile() && entry.name.endsWith(".md")) files.push(path);
    }
  };
  add("docs", 2);
  add("hookplugins", 3);
  add("examples", 1);
  return files.sort();
}

/** Every ```ts block of `file` (relative to `repoRoot`), with the context comment before it. */
export function snippetsOf(repoRoot: string, file: string): Snippet[] {
  const lines = readFileSync(join(repoRoot, file), "utf8").split("\n");
  const snippets: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i]!)) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    snippets.push({ file, line: start + 1, code: `${body.join("\n")}\n`, context: contextBefore(lines, start, `${file}:${start + 1}`) });
  }
  return snippets;
}

/** The `<!-- snippet {...} -->` comment that ends on the line before `fence`, if any. */
function contextBefore(lines: readonly string[], fence: number, where: string): SnippetContext {
  let end = fence - 1;
  while (end >= 0 && lines[end]!.trim() === "") end--;
  if (end < 0 || !lines[end]!.trimEnd().endsWith("-->")) return {};
  let begin = end;
  while (begin >= 0 && !lines[begin]!.includes("<!--")) begin--;
  const comment = lines.slice(begin, end + 1).join("\n");
  const match = /<!--\s*snippet\s+([\s\S]*?)-->/.exec(comment);
  if (!match) return {};
  let context: SnippetContext;
  try {
    context = JSON.parse(match[1]!) as SnippetContext;
  } catch (error) {
    throw new Error(`${where}: the snippet comment before this block is not valid JSON: ${(error as Error).message}`);
  }
  for (const key of Object.keys(context)) {
    if (!contextKeys.has(key)) throw new Error(`${where}: unknown key "${key}" in the snippet comment; keys: ${[...contextKeys].join(", ")}`);
  }
  return context;
}

/** Every snippet of the project's Markdown. */
export function allSnippets(repoRoot: string): Snippet[] {
  return markdownFiles(repoRoot).flatMap((file) => snippetsOf(repoRoot, file));
}

/** The files of one snippet's folder: its code (with the prelude first) and its context's files, by relative path. */
export function snippetFiles(snippet: Snippet): { main: string; files: Record<string, string> } {
  const main = snippet.context.as ?? "main.ts";
  const prelude = snippet.context.prelude ? `${snippet.context.prelude}\n` : "";
  return { main, files: { ...snippet.context.files, [main]: `${prelude}${snippet.code}` } };
}

/** Where tsc's diagnostics point back to: a line of a snippet file to the Markdown line it came from. */
export function markdownLineOf(snippet: Snippet, snippetLine: number): string {
  const preludeLines = snippet.context.prelude ? snippet.context.prelude.split("\n").length : 0;
  const line = snippetLine - preludeLines;
  return line >= 1 ? `${snippet.file}:${snippet.line + line}` : `${snippet.file}:${snippet.line} (its prelude, line ${snippetLine})`;
}

/** A short name of a snippet for test titles: `README.md:46`. */
export function snippetName(snippet: Snippet): string {
  return `${snippet.file}:${snippet.line}`;
}
