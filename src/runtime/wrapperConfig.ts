/**
 * What `hookplugins runtime install` records, once, for an installed wrapper: every path it runs or reads (all
 * absolute) and its limits. It is written into the wrapper script's header line and into the plugin step's bundle
 * (which runs with it), so that `hookplugins runtime check` can compare the two.
 */

/** The record's format version. */
export const wrapperConfigVersion = 1;

/** Default time limit of the whole plugin step of one create, in ms (engines wait far longer for a runtime). */
export const defaultStepTimeoutMs = 10_000;

/** Hand-offs older than this (ms) are swept at each create: left by starts that never reached the runtime. */
export const defaultHandoffMaxAgeMs = 600_000;

/** Extra time (ms) the script gives the plugin step past its limit before it stops Node (a plugin that blocks Node). */
export const stepKillGraceMs = 2_000;

/** The prefix of the header line in the wrapper script and in the plugin step bundle. */
export const wrapperHeaderPrefix = "# hookplugins-runtime-wrapper: ";

/** The same header as a JavaScript comment, the first line of the bundle. */
export const stepHeaderPrefix = "// hookplugins-runtime-wrapper: ";

/** An installed wrapper's record. */
export interface WrapperConfig {
  /** Format version (1). */
  readonly version: 1;
  /** The wrapper script (what engines are told to run). */
  readonly wrapper: string;
  /** The plugin step: one bundled ES module file (the wrapper's main, the library, the project's plugins). */
  readonly step: string;
  /** The real OCI runtime (runc). */
  readonly runtime: string;
  /** The node executable that runs the plugin step. */
  readonly node: string;
  /** coreutils' `timeout`, which stops a plugin step that blocked Node past its limit; undefined when missing. */
  readonly timeoutBin: string | undefined;
  /** coreutils' `date`, for the time of that message; undefined when missing. */
  readonly dateBin: string | undefined;
  /** Where the Docker API proxy leaves prestart hand-offs. */
  readonly handoffDir: string;
  /** Hand-offs older than this many ms are swept. */
  readonly handoffMaxAgeMs: number;
  /** The project's plugin state file, read at each create (disabled plugins are skipped). */
  readonly stateFile: string;
  /** The time limit of the plugin step of one create, in ms. */
  readonly timeoutMs: number;
  /** The host project the plugins came from. */
  readonly project: string;
  /** The plugins compiled into the step, as hookplugins.json lists them. */
  readonly plugins: readonly string[];
  /** The hookplugins version that installed it. */
  readonly libraryVersion: string;
}

/** A file or folder whose content decides what the wrapper runs as root: what it is, and whether it may not exist yet. */
export interface TrustedPath {
  /** What the wrapper uses it for ("the plugin step", ...). */
  readonly what: string;
  /** Its path. */
  readonly path: string;
  /** True for a place that may not exist yet (checked as its nearest existing folder); false for a file that must exist. */
  readonly place: boolean;
}

/** Everything the wrapper of `config` trusts: the plugin step checks them at each create, `runtime check` reports on them. */
export function trustedPathsOf(config: WrapperConfig): readonly TrustedPath[] {
  return [
    { what: "the wrapper script", path: config.wrapper, place: false },
    { what: "the plugin step", path: config.step, place: false },
    { what: "node", path: config.node, place: false },
    { what: "the real runtime", path: config.runtime, place: false },
    { what: "the hand-off folder", path: config.handoffDir, place: true },
    { what: "the plugin state file", path: config.stateFile, place: true },
  ];
}

/** A header line's record cannot be read. */
export class WrapperConfigError extends Error {
  override name = "WrapperConfigError";
}

/** The header line (without newline) holding `config` after `prefix`. */
export function wrapperHeaderLine(prefix: string, config: WrapperConfig): string {
  return `${prefix}${JSON.stringify(config)}`;
}

/** The record in the first line of `text` starting with `prefix`; throws WrapperConfigError when there is none. */
export function readWrapperHeader(text: string, prefix: string, where: string): WrapperConfig {
  const line = text.split("\n").find((l) => l.startsWith(prefix));
  if (line === undefined) throw new WrapperConfigError(`${where} has no "${prefix.trim()}" line: it was not written by \`hookplugins runtime install\``);
  let data: unknown;
  try {
    data = JSON.parse(line.slice(prefix.length));
  } catch (error) {
    throw new WrapperConfigError(`${where}: its "${prefix.trim()}" line is not valid JSON (${(error as Error).message}); install the wrapper again`);
  }
  const record = data as Partial<WrapperConfig> | null;
  if (typeof record !== "object" || record === null || record.version !== wrapperConfigVersion) {
    throw new WrapperConfigError(`${where} has wrapper record version ${JSON.stringify(record?.version)}, this hookplugins reads ${wrapperConfigVersion}; install the wrapper again`);
  }
  return record as WrapperConfig;
}
