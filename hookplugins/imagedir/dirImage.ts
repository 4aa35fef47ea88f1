/**
 * `dir:/path/to/rootfs`: a root filesystem folder used as it is, with an optional image config beside it in
 * `/path/to/rootfs.config.json` (an OCI image config blob, or just its "config" object).
 */
import { readFile, stat } from "node:fs/promises";
import type { ImageRunConfig, ResolvedImage } from "hookplugins";
import { ImageDirError } from "./imageRef.js";

/** The config file read for the root filesystem folder `rootfs`. */
export function configPathOf(rootfs: string): string {
  return `${rootfs.replace(/\/+$/, "")}.config.json`;
}

async function readConfig(ref: string, path: string): Promise<ImageRunConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new ImageDirError(ref, `cannot read its config ${path}: ${(err as Error).message}`, "make the file readable or remove it", { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ImageDirError(ref, `its config ${path} is not JSON`, 'write an OCI image config ({"config": {"Cmd": ["sh"]}}) or remove the file', { cause: err });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ImageDirError(ref, `its config ${path} is not a JSON object`, 'write an OCI image config ({"config": {"Cmd": ["sh"]}}) or remove the file');
  }
  const inner = (parsed as { config?: unknown }).config;
  return (typeof inner === "object" && inner !== null ? inner : parsed) as ImageRunConfig;
}

/** Resolves a `dir:` reference to the folder itself and its config (none: `{}`). */
export async function resolveDirImage(ref: string, rootfs: string): Promise<ResolvedImage> {
  const info = await stat(rootfs).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new ImageDirError(ref, `${rootfs} is not a folder`, "point dir: at a root filesystem folder (one holding bin/, etc/, ...)");
  }
  return { ref, rootfs, config: await readConfig(ref, configPathOf(rootfs)) };
}
