/**
 * `npm run build` in the hookplugins repo: checks any `--add-plugin` extras, then runs tsup with tsup.config.ts
 * (library entry points, the esbuild plugin and the CLI into --out-dir, which is what the package ships; the repo's own
 * host bundle with its generated plugin module into --examples-out-dir, which is never packed).
 */
import { rm } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { Command } from "commander";
import { build, type Options } from "tsup";
import { checkPlugin } from "../src/inclusion/checkPlugin.js";
import { normalizeSpecifier } from "../src/inclusion/locatePlugin.js";

/** The build options tsup.config.ts reads besides tsup's own. */
export interface RepoBuildOptions {
  /** Plugin specifiers compiled into the host bundle for this build only. */
  readonly hookpluginsExtra?: readonly string[];
  /** Build only the library (no host bundle). */
  readonly hookpluginsLibOnly?: boolean;
  /** The folder for the library, the esbuild plugin and the CLI (default dist). */
  readonly hookpluginsOutDir?: string;
  /** The folder for the repo's host bundles (default dist-examples). */
  readonly hookpluginsExamplesOutDir?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

const program = new Command("build")
  .description("build hookplugins (library, esbuild plugin, CLI) and the repo's host bundle")
  .option("--add-plugin <specifier>", "compile one more plugin into the host bundle for this build only; repeatable", collect, [])
  .option("--out-dir <dir>", "output folder of the library, the esbuild plugin and the CLI (what the package ships)", "dist")
  .option("--examples-out-dir <dir>", "output folder of the repo's host bundle (examples/minid)", "dist-examples")
  .option("--no-dts", "skip type declarations")
  .option("--lib-only", "build only the library, the esbuild plugin and the CLI")
  .option("--host <dir>", "the host project whose plugins --add-plugin is checked against", "examples/minid")
  .parse();

const options = program.opts<{ addPlugin: string[]; outDir: string; examplesOutDir: string; dts: boolean; libOnly?: boolean; host: string }>();
const root = resolve(options.host);
const extras = options.addPlugin.map((s) => normalizeSpecifier(s, process.cwd(), root));
try {
  for (const specifier of extras) {
    const { location } = await checkPlugin(specifier, root);
    console.log(`Adding plugin "${location.manifest.name}" (${specifier}) to this build only.`);
  }
  await rm(resolve(options.outDir), { recursive: true, force: true });
  if (options.libOnly !== true) await rm(resolve(options.examplesOutDir), { recursive: true, force: true });
  const tsupOptions: Options & RepoBuildOptions = {
    // not tsup's outDir: tsup lays options given here over every build of the config, and the builds differ in it
    hookpluginsOutDir: options.outDir,
    ...(options.dts ? {} : { dts: false }),
    // path specifiers go to the esbuild plugin absolute: it resolves them against the working folder again
    hookpluginsExtra: extras.map((s) => (s.startsWith(".") || isAbsolute(s) ? resolve(root, s) : s)),
    hookpluginsLibOnly: options.libOnly === true,
    hookpluginsExamplesOutDir: options.examplesOutDir,
  };
  await build(tsupOptions);
} catch (error) {
  console.error(`build: error: ${(error as Error).message}`);
  process.exit(1);
}
