/**
 * Builds the library (ESM + CJS + d.ts), the `hookplugins/esbuild` plugin and the `hookplugins` CLI into dist/ (what
 * the package ships), and the repo's own host bundle (examples/minid) with its generated plugin module into
 * dist-examples/ (never packed). Run through `npm run build` (scripts/build.ts).
 *
 * What a project that installs hookplugins gets: tapable is the one dependency. esbuild is an optional peer that only
 * the bundling commands import, on first use. commander and semver are bundled (the CLI and the build checks use a
 * small part of them). typed-emitter's types are inlined into the .d.ts files, so consumers need neither it nor rxjs.
 */
import { existsSync } from "node:fs";
import { defineConfig, type Options } from "tsup";
import type { RepoBuildOptions } from "./scripts/build.js";
import { hookpluginsEsbuildPlugin } from "./src/esbuild/index.js";

/** The repo's host bundles: output name, entry, and the host project (with its hookplugins.json). */
const hosts = [{ name: "minid/main", entry: "examples/minid/src/main.ts", root: "examples/minid" }];

/** Dev dependencies bundled into what ships, so installs do not pull them. */
const bundled = ["semver", "commander"];

// tsup requires its config as the default export.
export default defineConfig((cli: Options & RepoBuildOptions) => {
  // No source maps in the package: they would name src/*.ts files it does not ship. Its code is unminified, so a
  // stack trace through dist/*.js reads as it is.
  const common: Options = { platform: "node", target: "node20", sourcemap: false, outDir: cli.hookpluginsOutDir ?? "dist", clean: false };
  const dtsOf = (entry: Record<string, string>): Options["dts"] => (cli.dts === false ? false : { entry, resolve: ["typed-emitter"] });
  const index = { index: "src/index.ts" };
  // The build-time tools (the esbuild plugin, the CLI) bundle commander and semver.
  const tools = { ...common, noExternal: bundled };
  const esbuildPlugin = { esbuild: "src/esbuild/index.ts" };
  // hookplugins/external: external plugins' client, discovery and serve()
  const external = { external: "src/external/index.ts" };
  // hookplugins/docker: the Docker Engine bridge
  const docker = { docker: "src/docker/index.ts" };
  // hookplugins/runtime: the OCI runtime wrapper and the prestart hand-off
  const runtime = { runtime: "src/runtime/index.ts" };
  // hookplugins/cri: the CRI relay in front of containerd (Node's HTTP/2, no gRPC package)
  const cri = { cri: "src/cri/index.ts" };
  const library: Options[] = [
    { ...common, entry: index, format: "esm", dts: dtsOf(index) },
    { ...common, entry: index, format: "cjs", shims: true, dts: dtsOf(index) },
    // It imports the library as "hookplugins", so it holds only its own code and shares the library's types (one
    // PluginRegistry declaration: a registry from createRegistry() is accepted by loadExternalPlugins).
    { ...common, entry: external, format: "esm", external: ["hookplugins"], dts: dtsOf(external) },
    { ...common, entry: external, format: "cjs", shims: true, external: ["hookplugins"], dts: dtsOf(external) },
    { ...tools, entry: esbuildPlugin, format: "esm", dts: dtsOf(esbuildPlugin) },
    { ...tools, entry: esbuildPlugin, format: "cjs", shims: true, dts: dtsOf(esbuildPlugin) },
    { ...tools, entry: docker, format: "esm", external: ["hookplugins", "hookplugins/external", "hookplugins/runtime"], dts: dtsOf(docker) },
    { ...tools, entry: docker, format: "cjs", shims: true, external: ["hookplugins", "hookplugins/external", "hookplugins/runtime"], dts: dtsOf(docker) },
    { ...tools, entry: runtime, format: "esm", external: ["hookplugins"], dts: dtsOf(runtime) },
    { ...tools, entry: runtime, format: "cjs", shims: true, external: ["hookplugins"], dts: dtsOf(runtime) },
    { ...tools, entry: cri, format: "esm", external: ["hookplugins", "hookplugins/external"], dts: dtsOf(cri) },
    { ...tools, entry: cri, format: "cjs", shims: true, external: ["hookplugins", "hookplugins/external"], dts: dtsOf(cri) },
    {
      ...tools,
      entry: { cli: "src/cli/main.ts" },
      format: "esm",
      dts: false,
      // commander is CommonJS: its require() of Node's built-in modules needs a require in the ES module
      banner: { js: "import { createRequire as __hookpluginsCreateRequire } from 'node:module'; const require = __hookpluginsCreateRequire(import.meta.url);" },
      // cri-proxy imports the relay on first use from the package's own hookplugins/cri (dist/cri.js), not a copy
      external: ["hookplugins/cri"],
    },
  ];
  if (cli.hookpluginsLibOnly) return library;
  const hostBuilds = hosts
    .filter((host) => existsSync(host.entry))
    .map(
      (host): Options => ({
        ...common,
        sourcemap: true, // never packed: its maps point at the repo's own sources
        outDir: cli.hookpluginsExamplesOutDir ?? "dist-examples",
        entry: { [host.name]: host.entry },
        format: "esm",
        dts: false,
        noExternal: ["hookplugins"],
        esbuildPlugins: [hookpluginsEsbuildPlugin({ root: host.root, extraPlugins: cli.hookpluginsExtra ?? [] })],
      }),
    );
  return [...library, ...hostBuilds];
});
