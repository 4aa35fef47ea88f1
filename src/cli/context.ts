/**
 * What every command needs: the host project, the state file, and the output.
 */
import { statSync } from "node:fs";
import { resolve } from "node:path";
import { locateProjectRoot, ProjectNotFoundError, projectPath, readProject, type Project } from "../inclusion/projectManifest.js";
import { createOutput, type Output } from "./output.js";

/** Options every command accepts. */
export interface GlobalOptions {
  /** Host project folder. */
  readonly project?: string;
  /** State file path, overriding hookplugins.json's. */
  readonly stateFile?: string;
  /** Machine-readable output. */
  readonly json?: boolean;
}

/** How a command relates to the host project. */
export type ProjectNeed =
  /** Works on the project found at or above the start folder; fails when there is none. */
  | "required"
  /** Works on the start folder itself (`init`). */
  | "here"
  /** Uses the project when there is one, else the start folder (`plugin compile`, which reads only a plugin folder). */
  | "optional";

/** A command's view of the world. */
export interface CommandContext {
  /** The host project's root folder. */
  readonly root: string;
  /** The working directory specifiers are relative to. */
  readonly cwd: string;
  /** Where results go. */
  readonly out: Output;
  /** Reads the project manifest now. */
  project(): Promise<Project>;
  /** The state file path in effect. */
  stateFile(): Promise<string>;
}

/** `-C <dir>` names something that is not an existing folder. */
export class ProjectFolderError extends Error {
  override name = "ProjectFolderError";
}

/** The folder the project search starts from: `-C <dir>` (which must exist) or the working directory. */
function startFolder(cwd: string, project: string | undefined): string {
  if (project === undefined) return cwd;
  const dir = resolve(cwd, project);
  let isFolder = false;
  try {
    isFolder = statSync(dir).isDirectory();
  } catch {
    // missing: reported below
  }
  if (!isFolder) {
    throw new ProjectFolderError(`-C ${project}: ${dir} is not an existing folder; give the host project's folder (hookplugins never creates it; to start a new project, make the folder and run \`hookplugins init\` in it)`);
  }
  return dir;
}

/** Builds the context from the global options; throws ProjectNotFoundError when a project is required and there is none. */
export function createContext(options: GlobalOptions, need: ProjectNeed = "required"): CommandContext {
  const cwd = process.cwd();
  const start = startFolder(cwd, options.project);
  const found = need === "here" ? start : locateProjectRoot(start);
  if (found === undefined && need === "required") throw new ProjectNotFoundError(start);
  const root = found ?? start;
  return {
    root,
    cwd,
    out: createOutput(options.json === true),
    project: () => readProject(root),
    stateFile: async () => (options.stateFile ? resolve(cwd, options.stateFile) : projectPath({ root }, (await readProject(root)).manifest.stateFile)),
  };
}
