/**
 * The external plugin sources a host project declares in hookplugins.json (`"external"`), with folders resolved
 * against the project root, so that hosts and the CLI see the same plugins.
 */
import { readProject, projectPath } from "../inclusion/projectManifest.js";
import type { ExternalSources } from "./discovery.js";

/** The `external` sources of the project at `root` (empty when it declares none). */
export async function externalSourcesOfProject(root: string): Promise<ExternalSources> {
  const project = await readProject(root);
  const external = project.manifest.external;
  if (!external) return {};
  const dirs = (list: readonly string[] | undefined): string[] | undefined => list?.map((dir) => projectPath(project, dir));
  return {
    ...(external.socketDirs && { socketDirs: dirs(external.socketDirs) }),
    ...(external.specDirs && { specDirs: dirs(external.specDirs) }),
    ...(external.executableDirs && { executableDirs: dirs(external.executableDirs) }),
    ...(external.allowTcp !== undefined && { allowTcp: external.allowTcp }),
  };
}

/** Whether `sources` name at least one folder to look in. */
export function hasExternalSources(sources: ExternalSources): boolean {
  return Boolean(sources.socketDirs?.length || sources.specDirs?.length || sources.executableDirs?.length);
}

/** Joins several source declarations into one (folders in order: the first source's folders are looked in first). */
export function mergeExternalSources(...sources: readonly ExternalSources[]): ExternalSources {
  const join = (key: "socketDirs" | "specDirs" | "executableDirs"): string[] => sources.flatMap((s) => s[key] ?? []);
  return {
    socketDirs: join("socketDirs"),
    specDirs: join("specDirs"),
    executableDirs: join("executableDirs"),
    allowTcp: sources.some((s) => s.allowTcp === true),
  };
}
