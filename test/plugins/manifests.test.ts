import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { checkPlugin } from "../../src/inclusion/checkPlugin.js";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

const shipped = [
  { folder: "hookplugins/envlimits", registers: "envlimits", type: "ContainerPlugin" },
  { folder: "hookplugins/imagedir", registers: "imagedir", type: "ImagePlugin" },
  { folder: "hookplugins/helperprocess", registers: "helperprocess", type: "DaemonPlugin" },
  { folder: "hookplugins/prestarthooks/early", registers: "prestart-early", type: "ContainerPlugin" },
  { folder: "hookplugins/prestarthooks/late", registers: "prestart-late", type: "ContainerPlugin" },
] as const;

describe.each(shipped)("the shipped plugin $folder", ({ folder, registers, type }) => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, folder, "package.json"), "utf8")) as Record<string, unknown>;

  it("has a package.json with the standard fields and an ESM entry module", () => {
    expect(pkg).toMatchObject({ version: "0.1.0", author: "hookplugins authors", type: "module", main: "./index.ts" });
    expect(pkg["name"]).toBe(`@hookplugins/${registers}`);
    expect(typeof pkg["description"]).toBe("string");
  });

  it("passes the build's plugin checks: its manifest names what it registers and accepts this library version", async () => {
    const checked = await checkPlugin(`./${folder}`, repoRoot);
    expect(checked.registered.map((p) => `${p.type} ${p.name}`)).toEqual([`${type} ${registers}`]);
  });
});
