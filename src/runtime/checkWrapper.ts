/**
 * `hookplugins runtime check <wrapper>`: whether an installed wrapper will work when an engine calls it, without
 * creating a container: its record, the plugin step beside it, the real runtime and node, and that every file it
 * trusts is root's alone.
 */
import { execFile } from "node:child_process";
import { access, constants, readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { checkTrustedPath, checkTrustedPlace } from "./trustedPaths.js";
import { readWrapperHeader, stepHeaderPrefix, trustedPathsOf, wrapperHeaderPrefix, type WrapperConfig } from "./wrapperConfig.js";
import { renderWrapperScript } from "./wrapperScript.js";

/** What `checkRuntimeWrapper` found. */
export interface RuntimeWrapperReport {
  /** The wrapper's record (from its header line). */
  readonly config: WrapperConfig;
  /** The first line of `<runtime> --version`, when it ran. */
  readonly runtimeVersion: string | undefined;
  /** `node --version` of the recorded node, when it ran. */
  readonly nodeVersion: string | undefined;
  /** Everything that would make the wrapper fail, each with its fix; empty when it is ready. */
  readonly problems: readonly string[];
}

async function versionOf(file: string, problems: string[], what: string): Promise<string | undefined> {
  try {
    const { stdout } = await promisify(execFile)(file, ["--version"], { timeout: 10_000, env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } });
    return stdout.split("\n")[0]!.trim();
  } catch (error) {
    problems.push(`${what} ${file} does not run (${(error as Error).message.split("\n")[0]}); install the wrapper again with a working one`);
    return undefined;
  }
}

async function expectExecutable(file: string, what: string, problems: string[]): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    problems.push(`${what} ${file} is missing or not executable; install the wrapper again`);
    return false;
  }
}

/** Checks the wrapper at `path`; throws only when it is not a hookplugins wrapper at all (WrapperConfigError) or unreadable. */
export async function checkRuntimeWrapper(path: string): Promise<RuntimeWrapperReport> {
  const file = resolve(path);
  const text = await readFile(file, "utf8");
  const config = readWrapperHeader(text, wrapperHeaderPrefix, file);
  const problems: string[] = [];
  if (config.wrapper !== file) problems.push(`${file} was installed as ${config.wrapper}; install it again where it is now (hookplugins runtime install --out ${file})`);
  if (text !== renderWrapperScript(config)) problems.push(`${file} was changed after it was installed; install it again instead of editing it`);
  const stepText = await readFile(config.step, "utf8").catch(() => undefined);
  if (stepText === undefined) problems.push(`the plugin step ${config.step} is missing or unreadable; install the wrapper again`);
  else {
    const stepConfig = (() => {
      try {
        return readWrapperHeader(stepText.slice(0, 64 * 1024), stepHeaderPrefix, config.step);
      } catch (error) {
        problems.push((error as Error).message);
        return undefined;
      }
    })();
    if (stepConfig && JSON.stringify(stepConfig) !== JSON.stringify(config)) problems.push(`the plugin step ${config.step} belongs to another install than ${file}; install the wrapper again`);
  }
  const runtimeOk = await expectExecutable(config.runtime, "the real runtime", problems);
  const nodeOk = await expectExecutable(config.node, "node", problems);
  const runtimeVersion = runtimeOk ? await versionOf(config.runtime, problems, "the real runtime") : undefined;
  const nodeVersion = nodeOk ? await versionOf(config.node, problems, "node") : undefined;
  if (nodeVersion !== undefined && Number(/^v(\d+)/.exec(nodeVersion)?.[1] ?? 0) < 20) problems.push(`node ${config.node} is ${nodeVersion}; the plugin step needs node 20 or later`);
  // the wrapper as it is now, and without the files already reported missing
  const missing = new Set([...(stepText === undefined ? [config.step] : []), ...(nodeOk ? [] : [config.node]), ...(runtimeOk ? [] : [config.runtime])]);
  for (const { what, path: p, place } of trustedPathsOf({ ...config, wrapper: file })) {
    if (place) await checkTrustedPlace(what, p).catch((error: Error) => problems.push(error.message));
    else if (!missing.has(p)) await checkTrustedPath(what, p).catch((error: Error) => problems.push(error.message));
  }
  return { config, runtimeVersion, nodeVersion, problems };
}
