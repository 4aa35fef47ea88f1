/**
 * What every command needs: the host project, the state file, and the output.
 */
import { resolve } from "node:path";
import { findProjectRoot, projectPath, readProject, type Project } from "../build/projectManifest.js";
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

/** Builds the context from the global options. */
export function createContext(options: GlobalOptions): CommandContext {
  const cwd = process.cwd();
  const root = options.project ? resolve(cwd, options.project) : findProjectRoot(cwd);
  return {
    root,
    cwd,
    out: createOutput(options.json === true),
    project: () => readProject(root),
    stateFile: async () => (options.stateFile ? resolve(cwd, options.stateFile) : projectPath({ root }, (await readProject(root)).manifest.stateFile)),
  };
}
