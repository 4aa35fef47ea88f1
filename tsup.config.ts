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
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { defineConfig, type Options } from "tsup";
import type { RepoBuildOptions } from "./scripts/build.js";
import { hookpluginsEsbuildPlugin } from "./src/esbuild/index.js";

/** The repo's host bundles: output name, entry, and the host project (with its hookplugins.json). */
const hosts = [{ name: "minid/main", entry: "examples/minid/src/main.ts", root: "examples/minid" }];

/**
 * commander is CommonJS: its require() of Node's built-in modules goes through esbuild's `__require` helper, which
 * needs a `require` in the ES module that defines the helper (a shared chunk of the split build). The line goes into
 * that file alone, not as tsup's `banner`, which every file of the build would get.
 */
async function defineRequire(outDir: string): Promise<void> {
  const line = "import { createRequire as __hookpluginsChunkCreateRequire } from 'node:module'; const require = __hookpluginsChunkCreateRequire(import.meta.url);";
  for (const name of await readdir(outDir)) {
    if (!name.endsWith(".js")) continue;
    const file = join(outDir, name);
    const text = await readFile(file, "utf8");
    if (!/^var __require = /m.test(text) || text.includes(line)) continue;
    const hashbang = text.startsWith("#!") ? text.indexOf("\n") + 1 : 0;
    await writeFile(file, `${text.slice(0, hashbang)}${line}\n${text.slice(hashbang)}`);
  }
}

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
  // The ES module builds are one build with code splitting: each entry file holds its own code, and what two of
  // them use (the engine above all) is in shared chunk files, loaded once. The CLI and the subpaths reach the engine
  // through "hookplugins" (tsconfig's paths: the sources), so it is never copied into them.
  const esmEntries = { ...index, ...esbuildPlugin, ...external, ...docker, ...runtime, ...cri, cli: "src/cli/main.ts" };
  // Each entry with the package's own subpaths it imports by name. The CommonJS builds cannot share chunks (esbuild
  // splits ES modules only): they require the library as "hookplugins" (dist/index.cjs), so each holds only its own
  // code and shares the library's state. The declarations do the same for both formats: one PluginRegistry
  // declaration, so a registry from createRegistry() is accepted by loadExternalPlugins.
  const entries = [
    [index, []],
    [esbuildPlugin, []],
    [external, ["hookplugins"]],
    [docker, ["hookplugins", "hookplugins/external", "hookplugins/runtime"]],
    [runtime, ["hookplugins"]],
    [cri, ["hookplugins", "hookplugins/external"]],
  ] as const;
  const library: Options[] = [{ ...tools, entry: esmEntries, format: "esm", splitting: true, dts: false, onSuccess: () => defineRequire(common.outDir!) }];
  for (const [entry, imports] of entries) {
    library.push({ ...tools, entry, format: "cjs", shims: true, external: [...imports], dts: dtsOf(entry) });
    // the ES modules' declarations, without their code (which the split build above makes)
    if (cli.dts !== false) library.push({ ...tools, entry, format: "esm", external: [...imports], dts: { entry, resolve: ["typed-emitter"], only: true } });
  }
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
