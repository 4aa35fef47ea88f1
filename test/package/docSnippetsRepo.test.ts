/**
 * The documentation's snippets for contributors (`<!-- snippet {"repo": true} -->`) compile in this repository, with
 * its own tsconfig; and every snippet comment parses. The consumer snippets compile against the packed tarball in
 * tarball.test.ts.
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot, run } from "../cli/helpers.js";
import { allSnippets, markdownLineOf, snippetName } from "./docSnippets.js";

const tsc = join(repoRoot, "node_modules", "typescript", "bin", "tsc");
// Inside the repo's node_modules, so that the repo's packages (vitest, ...) resolve from there, and outside the
// sources that `npm test`'s own type-check reads.
const dir = join(repoRoot, "node_modules", ".cache", `hookplugins-doc-snippets-${process.pid}`);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the documentation's snippets for contributors", () => {
  const snippets = allSnippets(repoRoot).filter((s) => s.context.repo);

  it("include the README's example of a test that needs a tool", () => {
    expect(snippets.map((s) => s.code).join("")).toContain("itWithTools(");
  });

  for (const snippet of snippets) {
    it(`compiles ${snippetName(snippet)} in the repository`, async () => {
      await mkdir(dir, { recursive: true });
      // the snippet is written as a file of test/<folder>/: its relative imports point into test/
      const code = snippet.code.replace(/from "\.\.\/([^"]+)"/g, (_m, path: string) => `from ${JSON.stringify(join(repoRoot, "test", path))}`);
      const file = join(dir, `snippet${snippet.line}.ts`);
      await writeFile(file, code);
      await writeFile(
        join(dir, `tsconfig${snippet.line}.json`),
        JSON.stringify({ extends: join(repoRoot, "tsconfig.json"), compilerOptions: { noEmit: true }, include: [], files: [file] }),
      );
      const compiled = await run(process.execPath, [tsc, "-p", join(dir, `tsconfig${snippet.line}.json`)], repoRoot);
      const output = (compiled.stdout + compiled.stderr).replace(/snippet\d+\.ts\((\d+),\d+\)/g, (_m, line: string) => markdownLineOf(snippet, Number(line)));
      expect(output).toBe("");
      expect(compiled.code).toBe(0);
    }, 60_000);
  }
});
