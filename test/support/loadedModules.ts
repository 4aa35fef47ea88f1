/**
 * Which ES modules a Node process loads: `node --import <recorder>` with a module hook (module.register) that writes
 * each `file:` URL it loads to a file, so that a test can say a program never loaded some code (e.g. the CRI relay
 * when a project imports "hookplugins", or when the CLI prints its help). CommonJS require() does not pass through
 * these hooks in Node 20: a CommonJS program reports `require.cache` itself.
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { run, type RunResult } from "../cli/helpers.js";

/** A run, with the files of every ES module it loaded, in load order. */
export interface RecordedRun extends RunResult {
  /** Absolute paths of the ES modules loaded from files (each once). */
  readonly loaded: readonly string[];
}

const hooks = `import { appendFileSync } from "node:fs";
export async function load(url, context, nextLoad) {
  if (url.startsWith("file:")) appendFileSync(process.env.HOOKPLUGINS_LOADED_LOG, url + "\\n");
  return nextLoad(url, context);
}
`;

const register = `import { register } from "node:module";
register("./hooks.mjs", import.meta.url);
`;

/** Runs `node args...` in `cwd`, recording the ES modules it loads. */
export async function runRecordingLoads(args: readonly string[], cwd: string): Promise<RecordedRun> {
  const dir = await mkdtemp(join(tmpdir(), "hookplugins-loads-"));
  try {
    await writeFile(join(dir, "hooks.mjs"), hooks);
    await writeFile(join(dir, "register.mjs"), register);
    const log = join(dir, "loaded.log");
    await writeFile(log, "");
    const result = await run(process.execPath, ["--import", pathToFileURL(join(dir, "register.mjs")).href, ...args], cwd, { HOOKPLUGINS_LOADED_LOG: log });
    const urls = (await readFile(log, "utf8")).split("\n").filter((line) => line !== "" && !line.startsWith(pathToFileURL(dir).href));
    return { ...result, loaded: [...new Set(urls.map((url) => fileURLToPath(url)))] };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The text only a bundle holding the CRI relay's code has: createCriProxy's definition (a caller has only its name). */
export const criRelayMarker = "function createCriProxy(";

/** Text that only the files holding the Docker API proxy's and the Docker plugin bridge's code contain. */
export const dockerEdgeMarkers = ["function createDockerProxy(", "function createDockerBridge("] as const;

/** The files among `files` whose text holds `marker` (e.g. criRelayMarker). */
export async function filesHolding(files: readonly string[], marker: string): Promise<string[]> {
  const holding: string[] = [];
  for (const file of files) if ((await readFile(file, "utf8")).includes(marker)) holding.push(file);
  return holding;
}

/** The JavaScript files directly in `dir` whose text holds `marker`. */
export async function folderFilesHolding(dir: string, marker: string): Promise<string[]> {
  const files = (await readdir(dir)).filter((name) => /\.(c|m)?js$/.test(name)).map((name) => join(dir, name));
  return filesHolding(files, marker);
}
