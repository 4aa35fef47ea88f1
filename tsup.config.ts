/**
 * Builds the library (ESM + CJS + d.ts), the `hookplugins/esbuild` plugin, the `hookplugins` CLI (dist/cli.js), and the
 * repo's own host bundle (examples/minid) with its generated plugin module. Run through `npm run build` (src/build/main.ts).
 */
import { existsSync } from "node:fs";
import { defineConfig, type Options } from "tsup";
import type { RepoBuildOptions } from "./src/build/main.js";
import { hookpluginsEsbuildPlugin } from "./src/esbuild/index.js";

/** The repo's host bundles: output name, entry, and the host project (with its hookplugins.json). */
const hosts = [{ name: "minid/main", entry: "examples/minid/src/main.ts", root: "examples/minid" }];

// tsup requires its config as the default export.
export default defineConfig((cli: Options & RepoBuildOptions) => {
  const common: Options = { platform: "node", target: "node20", sourcemap: true, outDir: "dist", clean: false };
  const library: Options[] = [
    {
      ...common,
      entry: { index: "src/index.ts", esbuild: "src/esbuild/index.ts", external: "src/external/index.ts", cli: "src/cli/main.ts" },
      format: "esm",
      splitting: true,
      dts: { entry: { index: "src/index.ts", esbuild: "src/esbuild/index.ts", external: "src/external/index.ts" } },
    },
    {
      ...common,
      entry: { index: "src/index.ts", esbuild: "src/esbuild/index.ts", external: "src/external/index.ts" },
      format: "cjs",
      shims: true,
      dts: { entry: { index: "src/index.ts", esbuild: "src/esbuild/index.ts", external: "src/external/index.ts" } },
    },
  ];
  if (cli.hookpluginsLibOnly) return library;
  const hostBuilds = hosts
    .filter((host) => existsSync(host.entry))
    .map(
      (host): Options => ({
        ...common,
        entry: { [host.name]: host.entry },
        format: "esm",
        dts: false,
        noExternal: ["hookplugins"],
        esbuildPlugins: [hookpluginsEsbuildPlugin({ root: host.root, extraPlugins: cli.hookpluginsExtra ?? [] })],
      }),
    );
  return [...library, ...hostBuilds];
});
