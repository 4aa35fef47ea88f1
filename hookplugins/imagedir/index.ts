/**
 * imagedir: an image driver (ImagePlugin.resolveImage) serving `dir:/path/to/rootfs` folders and
 * `oci:/path/to/layout[:tag]` OCI image layouts; every other reference is left to the next driver or the host's store.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { registerImagePlugin, type HookContext, type ResolvedImage } from "hookplugins";
import { resolveDirImage } from "./dirImage.js";
import { parseImageDirRef } from "./imageRef.js";
import { resolveOciImage } from "./ociLayout.js";

export { ImageDirError } from "./imageRef.js";
export type { ImageRunConfig, ResolvedImage } from "hookplugins";

/** The environment variable naming the folder OCI layouts are unpacked into. */
export const cacheDirEnv = "HOOKPLUGINS_IMAGEDIR_CACHE";

/** The cache folder used when `HOOKPLUGINS_IMAGEDIR_CACHE` is not set. */
export function defaultCacheDir(): string {
  return process.env[cacheDirEnv] || join(tmpdir(), "hookplugins-imagedir");
}

/** How an imagedir plugin is set up. */
export interface ImageDirOptions {
  /** Where OCI layouts are unpacked, one folder per manifest digest (default: `defaultCacheDir()` at each call). */
  cacheDir?: string;
  /** Plugin name (default "imagedir"). */
  name?: string;
}

/** The imagedir plugin object: an ImagePlugin with resolveImage. */
export interface ImageDirPlugin {
  /** Plugin name. */
  readonly name: string;
  /** Version. */
  readonly version: string;
  /** What it does. */
  readonly description: string;
  /** Who wrote it. */
  readonly author: string;
  /** "Not mine" (undefined) for references other than dir: and oci:; throws ImageDirError for a broken one of its own. */
  resolveImage(ctx: HookContext, ref: string): Promise<ResolvedImage | undefined>;
}

/** Resolves `ref` as imagedir does: undefined when it is not a dir:/oci: reference. */
export async function resolveImageDirRef(ref: string, cacheDir: string = defaultCacheDir()): Promise<ResolvedImage | undefined> {
  const parsed = parseImageDirRef(ref);
  if (!parsed) return undefined;
  return parsed.kind === "dir" ? resolveDirImage(ref, parsed.path) : resolveOciImage(ref, parsed.path, parsed.tag, cacheDir);
}

/** A new imagedir plugin object (not registered). */
export function createImageDirPlugin(options: ImageDirOptions = {}): ImageDirPlugin {
  return {
    name: options.name ?? "imagedir",
    version: "0.1.0",
    description: "Serves images from root filesystem folders (dir:/path) and OCI image layouts (oci:/path[:tag])",
    author: "hookplugins authors",
    resolveImage: (_ctx, ref) => resolveImageDirRef(ref, options.cacheDir ?? defaultCacheDir()),
  };
}

/** The imagedir plugin registered in the default registry when this module loads. */
export const imageDirPlugin: ImageDirPlugin = createImageDirPlugin();

registerImagePlugin(imageDirPlugin);
