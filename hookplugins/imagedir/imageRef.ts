/**
 * The references imagedir answers: `dir:/abs/rootfs` and `oci:/abs/layout[:tag]`; anything else is not its own.
 */
import { isAbsolute } from "node:path";

/** A reference imagedir serves. */
export type ImageDirRef = { readonly kind: "dir"; readonly path: string } | { readonly kind: "oci"; readonly path: string; readonly tag: string | undefined };

/** An image reference imagedir owns but cannot serve: the message names the reference and the fix. */
export class ImageDirError extends Error {
  override name = "ImageDirError";
  /** The reference that was asked for. */
  readonly ref: string;

  /** `problem` with `ref`, and what to do about it. */
  constructor(ref: string, problem: string, fix: string, options?: { cause?: unknown }) {
    super(`image "${ref}": ${problem}; ${fix}`, options);
    this.ref = ref;
  }
}

/** Parses `ref`: undefined when it is not a `dir:` or `oci:` reference; throws ImageDirError for a relative path. */
export function parseImageDirRef(ref: string): ImageDirRef | undefined {
  const match = /^(dir|oci):(.*)$/.exec(ref);
  if (!match) return undefined;
  const kind = match[1] as "dir" | "oci";
  let path = match[2] ?? "";
  let tag: string | undefined;
  if (kind === "oci") {
    const colon = path.lastIndexOf(":");
    if (colon > path.lastIndexOf("/")) {
      tag = path.slice(colon + 1);
      path = path.slice(0, colon);
    }
  }
  if (!isAbsolute(path)) {
    const example = kind === "dir" ? "dir:/srv/images/app" : "oci:/srv/layouts/app:1.0";
    throw new ImageDirError(ref, `the path "${path}" is not absolute`, `write the folder as an absolute path, e.g. ${example}`);
  }
  return kind === "dir" ? { kind, path } : { kind, path, tag: tag === "" ? undefined : tag };
}
