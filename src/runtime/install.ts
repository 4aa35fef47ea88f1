/**
 * `hookplugins runtime install`: writes the OCI runtime wrapper for a host project. Two files: the plugin step, one ES
 * module bundled by esbuild (the wrapper's main, this library and the project's plugins, through the esbuild plugin's
 * `hookplugins:plugins`), and the sh script engines call, with every path it uses absolute. At run time neither needs
 * tsx, esbuild, node_modules, HOME or PATH. Used by the CLI (not part of the `hookplugins/runtime` subpath, which must
 * not carry the build tools).
 */
import { accessSync, constants, statSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { bundledLibraryPlugin, bundleText, esmRequireBanner } from "../inclusion/bundleText.js";
import { libraryVersion } from "../inclusion/libraryInfo.js";
import { readProject, type Project } from "../inclusion/projectManifest.js";
import { hookpluginsEsbuildPlugin } from "../esbuild/index.js";
import { hasExternalSources } from "../external/projectSources.js";
import { writeFileAtomic } from "../state/atomicWrite.js";
import { defaultHandoffDir } from "./handoff.js";
import { checkTrustedPlace } from "./trustedPaths.js";
import {
  defaultHandoffMaxAgeMs,
  defaultStepTimeoutMs,
  stepHeaderPrefix,
  wrapperConfigVersion,
  wrapperHeaderLine,
  type WrapperConfig,
} from "./wrapperConfig.js";
import { renderWrapperScript } from "./wrapperScript.js";

/** The wrapper's file name when `--out` names a folder. */
export const defaultWrapperName = "hookplugins-runtime";

/** The plugin step's file: the wrapper's path with `.mjs` added. */
export function stepPathOf(wrapper: string): string {
  return `${wrapper}.mjs`;
}

/** What `installRuntimeWrapper` needs. */
export interface InstallRuntimeWrapperOptions {
  /** The host project folder (holding hookplugins.json). */
  readonly root: string;
  /** The real OCI runtime (absolute, or relative to `cwd`). */
  readonly runtime: string;
  /** The wrapper's path, or a folder (an existing one, or a path ending in "/") to put `hookplugins-runtime` in. */
  readonly out: string;
  /** The plugin state file read at each create (absolute). */
  readonly stateFile: string;
  /** Where the proxy leaves hand-offs (default /run/hookplugins/prestart). */
  readonly handoffDir?: string;
  /** The plugin step's time limit in ms (default 10000). */
  readonly timeoutMs?: number;
  /** The node that runs the plugin step (default: the one running this). */
  readonly node?: string;
  /** The folder relative paths are read from (default: the working folder). */
  readonly cwd?: string;
}

/** What was installed. */
export interface InstalledRuntimeWrapper {
  /** The record written into both files. */
  readonly config: WrapperConfig;
  /** The plugin step's size in bytes. */
  readonly stepBytes: number;
  /** Things the user should know (external plugin sources the wrapper does not run, a missing `timeout`). */
  readonly warnings: readonly string[];
}

/** The options cannot make a working wrapper; nothing was written. */
export class RuntimeInstallError extends Error {
  override name = "RuntimeInstallError";
}

function executableFile(path: string, what: string, hint: string): string {
  try {
    if (!statSync(path).isFile()) throw new Error("not a file");
    accessSync(path, constants.X_OK);
  } catch {
    throw new RuntimeInstallError(`${what} ${path} is not an executable file; ${hint}`);
  }
  return path;
}

/** coreutils' `name` in /usr/bin or /bin (absolute, so the script needs no PATH), or undefined. */
function coreutil(name: string): string | undefined {
  return ["/usr/bin", "/bin"].map((dir) => join(dir, name)).find((file) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Where the wrapper goes: `out` itself, or `<out>/hookplugins-runtime` when `out` is a folder. */
export function wrapperPathOf(out: string): string {
  let folder = out.endsWith("/");
  try {
    folder ||= statSync(out).isDirectory();
  } catch {
    // a new file
  }
  return folder ? join(out, defaultWrapperName) : out;
}

/** The record for `options` (paths checked and made absolute). */
function wrapperConfigOf(options: InstallRuntimeWrapperOptions, project: Project): WrapperConfig {
  const cwd = options.cwd ?? process.cwd();
  const wrapper = resolve(cwd, wrapperPathOf(options.out));
  const runtime = executableFile(resolve(cwd, options.runtime), "--runtime", "give the real OCI runtime, e.g. /usr/sbin/runc");
  if (runtime === wrapper) throw new RuntimeInstallError(`--runtime and --out are both ${wrapper}: the wrapper would call itself; give the real runtime`);
  const node = executableFile(resolve(cwd, options.node ?? process.execPath), "node", "give node's path with --node");
  const timeoutMs = options.timeoutMs ?? defaultStepTimeoutMs;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new RuntimeInstallError(`the time limit must be a whole number of ms >= 1, got ${timeoutMs}`);
  const handoffDir = resolve(cwd, options.handoffDir ?? defaultHandoffDir);
  if (!isAbsolute(options.stateFile)) throw new RuntimeInstallError(`the state file must be an absolute path, got ${options.stateFile}`);
  return {
    version: wrapperConfigVersion,
    wrapper,
    step: stepPathOf(wrapper),
    runtime,
    node,
    timeoutBin: coreutil("timeout"),
    dateBin: coreutil("date"),
    handoffDir,
    handoffMaxAgeMs: defaultHandoffMaxAgeMs,
    stateFile: options.stateFile,
    timeoutMs,
    project: project.root,
    plugins: [...project.manifest.plugins],
    libraryVersion: libraryVersion(),
  };
}

/** Bundles the plugin step for `config`: the project's plugins, this library and the step's main, in one ES module. */
async function bundleStep(config: WrapperConfig): Promise<string> {
  return bundleText(
    {
      stdin: {
        contents: [
          'import "hookplugins:plugins";',
          'import { pluginStepMain } from "hookplugins/runtime";',
          `await pluginStepMain(${JSON.stringify(config)});`,
        ].join("\n"),
        resolveDir: config.project,
        sourcefile: "hookplugins-runtime-step.js",
        loader: "js",
      },
      plugins: [hookpluginsEsbuildPlugin({ root: config.project }), bundledLibraryPlugin(["runtime"])],
      banner: { js: [wrapperHeaderLine(stepHeaderPrefix, config), esmRequireBanner].join("\n") },
    },
    `cannot build the runtime wrapper's plugin step for ${config.project}`,
  );
}

/**
 * Writes the wrapper and its plugin step for the project at `options.root`. Checks first that the real runtime and
 * node are executables and that the destination is a place only root can write (the wrapper refuses to run from any
 * other); writes the step, then the script, each atomically.
 */
export async function installRuntimeWrapper(options: InstallRuntimeWrapperOptions): Promise<InstalledRuntimeWrapper> {
  const project = await readProject(options.root);
  if (!project.exists) throw new RuntimeInstallError(`no hookplugins.json in ${options.root}; run \`hookplugins init\` there, or pass -C <project folder>`);
  const config = wrapperConfigOf(options, project);
  await checkTrustedPlace("the wrapper script", config.wrapper);
  const warnings: string[] = [];
  const external = project.manifest.external;
  if (external && hasExternalSources(external)) {
    warnings.push(`${project.manifestPath} lists external plugin sources: the wrapper runs only the plugins compiled in ("plugins"), not external ones`);
  }
  if (config.timeoutBin === undefined) warnings.push("coreutils' timeout is not in /usr/bin or /bin: a plugin that blocks node cannot be stopped at the time limit");
  const code = await bundleStep(config);
  await mkdir(dirname(config.wrapper), { recursive: true, mode: 0o755 });
  await writeFileAtomic(config.step, code, { mode: 0o644 });
  await writeFileAtomic(config.wrapper, renderWrapperScript(config), { mode: 0o755 });
  return { config, stepBytes: Buffer.byteLength(code), warnings };
}
