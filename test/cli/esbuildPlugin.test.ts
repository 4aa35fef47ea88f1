/**
 * The esbuild plugin outside a host project: the build fails with the folder and the fix, instead of silently
 * bundling no plugins.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { expect, it } from "vitest";
import { hookpluginsEsbuildPlugin } from "../../src/esbuild/index.js";

it("fails the build, naming the folder and `hookplugins init`, when the root holds no hookplugins.json", async () => {
  const dir = await mkdtemp(join(tmpdir(), "hookplugins-noproject-"));
  try {
    await writeFile(join(dir, "main.js"), 'import "hookplugins:plugins";\n');
    const bundling = build({ entryPoints: [join(dir, "main.js")], bundle: true, write: false, logLevel: "silent", plugins: [hookpluginsEsbuildPlugin({ root: dir })] });
    await expect(bundling).rejects.toThrow(`no hookplugins.json in ${dir}; run \`hookplugins init\``);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
