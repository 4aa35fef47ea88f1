/**
 * Compiles the documentation's TypeScript snippets in a strict consumer project against the installed tarball,
 * under NodeNext and bundler resolution: one project per resolution mode, one folder per snippet, one tsc run per
 * project, one test per snippet that shows that snippet's diagnostics with the Markdown line they point at.
 */
import { readFileSync } from "node:fs";
import { cp, mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { repoRoot, run } from "../cli/helpers.js";
import { allSnippets, markdownLineOf, snippetFiles, snippetName, type Snippet } from "./docSnippets.js";
import type { PackedPackage } from "./packedPackage.js";

const tsc = join(repoRoot, "node_modules", "typescript", "bin", "tsc");

/** The resolution modes a consumer may use. */
const modes = {
  nodenext: { module: "nodenext", moduleResolution: "nodenext" },
  bundler: { module: "esnext", moduleResolution: "bundler" },
} as const;

/** A strict consumer's tsconfig; build tools a snippet imports (tsup, esbuild) come from the repo's devDependencies. */
function consumerTsconfig(mode: keyof typeof modes): string {
  // the declaration file itself: NodeNext does not read a package.json behind a `paths` entry
  const fromRepo = (name: string): string[] => {
    const manifest = JSON.parse(readFileSync(join(repoRoot, "node_modules", name, "package.json"), "utf8")) as { types: string };
    return [join(repoRoot, "node_modules", name, manifest.types)];
  };
  return JSON.stringify(
    {
      compilerOptions: {
        target: "ES2022",
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        typeRoots: [join(repoRoot, "node_modules", "@types")],
        types: ["node"],
        paths: { tsup: fromRepo("tsup"), esbuild: fromRepo("esbuild") },
        ...modes[mode],
      },
      include: ["src"],
    },
    null,
    2,
  );
}

/** Writes each snippet into its own folder `src/sN/`; returns the folders by snippet. */
async function writeSnippets(dir: string, snippets: readonly Snippet[]): Promise<Map<Snippet, string>> {
  const folders = new Map<Snippet, string>();
  for (const [i, snippet] of snippets.entries()) {
    const folder = `src/s${i}`;
    folders.set(snippet, folder);
    for (const copied of snippet.context.copy ?? []) await cp(join(repoRoot, copied), join(dir, folder, copied), { recursive: true });
    for (const [path, content] of Object.entries(snippetFiles(snippet).files)) {
      await mkdir(dirname(join(dir, folder, path)), { recursive: true });
      await writeFile(join(dir, folder, path), content);
    }
  }
  return folders;
}

/** tsc's diagnostics grouped by the snippet folder they are in (`src/s3/main.ts(4,7): error ...`). */
function diagnosticsByFolder(output: string): Map<string, string[]> {
  const byFolder = new Map<string, string[]>();
  for (const line of output.split("\n")) {
    const match = /^(src\/s\d+)\//.exec(line);
    const key = match ? match[1]! : "other";
    if (line.trim() === "") continue;
    if (!match && !/error TS/.test(line)) {
      // a continuation line of the previous diagnostic
      const last = [...byFolder.values()].at(-1);
      if (last) last.push(line);
      continue;
    }
    byFolder.set(key, [...(byFolder.get(key) ?? []), line]);
  }
  return byFolder;
}

/** Rewrites `src/sN/main.ts(L,C)` to the Markdown line it came from. */
function explain(snippet: Snippet, folder: string, lines: readonly string[]): string {
  const main = `${folder}/${snippetFiles(snippet).main}(`;
  return lines
    .map((line) => {
      if (!line.startsWith(main)) return line;
      const at = /^[^(]+\((\d+),(\d+)\)/.exec(line);
      return at ? `${markdownLineOf(snippet, Number(at[1]))}: ${line}` : line;
    })
    .join("\n");
}

/** The suite: needs the packed package installed (`pkg()` after the caller's beforeAll). */
export function describeDocSnippets(pkg: () => PackedPackage): void {
  const snippets = allSnippets(repoRoot).filter((s) => !s.context.repo);

  for (const mode of Object.keys(modes) as (keyof typeof modes)[]) {
    describe(`the documentation's TypeScript snippets, in a strict consumer project with moduleResolution ${mode}`, () => {
      let folders: Map<Snippet, string>;
      let byFolder: Map<string, string[]>;

      beforeAll(async () => {
        const dir = join(pkg().consumers, `docs-${mode}`);
        await mkdir(dir, { recursive: true });
        await writeFile(join(dir, "package.json"), JSON.stringify({ name: `docs-${mode}`, private: true, type: "module" }));
        await writeFile(join(dir, "tsconfig.json"), consumerTsconfig(mode));
        folders = await writeSnippets(dir, snippets);
        const compiled = await run(process.execPath, [tsc, "-p", "."], dir);
        byFolder = diagnosticsByFolder(compiled.stdout + compiled.stderr);
        if (compiled.code !== 0 && byFolder.size === 0) throw new Error(`tsc failed without diagnostics:\n${compiled.stdout}${compiled.stderr}`);
      }, 120_000);

      it("finds the snippets of the README, the shipped plugins and docs/", () => {
        expect(snippets.length).toBeGreaterThanOrEqual(12);
        expect(new Set(snippets.map((s) => s.file))).toEqual(new Set(["README.md", "hookplugins/envlimits/README.md", "hookplugins/helperprocess/README.md", "hookplugins/policy/README.md"]));
      });

      it("reports nothing outside the snippets' folders, hookplugins' declarations included", () => {
        // tsup's own declarations fail skipLibCheck: false (they import @swc/core, an optional peer of tsup): not ours
        const ours = (byFolder.get("other") ?? []).filter((line) => !line.includes("node_modules/tsup/"));
        expect(ours).toEqual([]);
      });

      for (const snippet of snippets) {
        it(`compiles ${snippetName(snippet)}`, () => {
          const folder = folders.get(snippet)!;
          const lines = byFolder.get(folder) ?? [];
          expect(lines.length === 0 ? "" : explain(snippet, folder, lines)).toBe("");
        });
      }
    });
  }
}
