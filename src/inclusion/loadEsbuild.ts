/**
 * esbuild is an optional peer dependency: only the commands that bundle load it, on first use, through loadEsbuild.
 */
import type * as Esbuild from "esbuild";

/** The esbuild module's API, as `import("esbuild")` gives it. */
export type EsbuildModule = typeof Esbuild;

/** A command needed esbuild to bundle, and esbuild is not installed where hookplugins can import it. */
export class EsbuildMissingError extends Error {
  override name = "EsbuildMissingError";
  /** What could not be done without esbuild, e.g. `cannot compile plugin "./x"`. */
  readonly what: string;

  /** Creates the error; `what` says what could not be done, `cause` is the failed import's error. */
  constructor(what: string, cause: unknown) {
    super(
      `${what}: bundling needs esbuild, an optional peer dependency of hookplugins that is not installed; install it in your project with \`npm install -D esbuild\``,
      { cause },
    );
    this.what = what;
  }
}

/** Imports the esbuild package; a parameter of loadEsbuild so tests can stand in for a missing one. */
export type EsbuildImporter = () => Promise<EsbuildModule>;

const importEsbuild: EsbuildImporter = () => import("esbuild");

function isEsbuildNotFound(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") && typeof message === "string" && /['"]esbuild['"]/.test(message);
}

let loaded: Promise<EsbuildModule> | undefined;

/**
 * esbuild, imported on first use; throws EsbuildMissingError (starting with `what`) when it is not installed.
 * Any other failure to load it (a broken install) is rethrown as it is.
 */
export async function loadEsbuild(what: string, importer: EsbuildImporter = importEsbuild): Promise<EsbuildModule> {
  const pending = importer === importEsbuild ? (loaded ??= importer()) : importer();
  try {
    return await pending;
  } catch (error) {
    if (importer === importEsbuild) loaded = undefined;
    if (isEsbuildNotFound(error)) throw new EsbuildMissingError(what, error);
    throw error;
  }
}
