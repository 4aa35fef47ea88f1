/**
 * Test helpers for imagedir: OCI image layouts written at test time (layers tarred by the system's `tar`, blobs
 * named by their sha256, index.json, manifest, config), and root filesystem folders.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

/** One file of a layer folder: its contents, or a symlink target. */
export type LayerFile = string | { symlink: string };

/** A layer: paths relative to the root ("etc/hello") and what they hold; "dir/" makes an empty folder. */
export type LayerSpec = Record<string, LayerFile>;

/** A descriptor as the layout files write it. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/**
 * Writes `files` into `dir` and tars it with the system tar (numeric owners); the archive's bytes. `members`: only
 * these paths go in (no entries for their folders), as a hostile layer would have it.
 */
export async function tarLayer(dir: string, files: LayerSpec, members: readonly string[] = ["."]): Promise<Buffer> {
  await mkdir(dir, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    const target = join(dir, path);
    if (path.endsWith("/")) {
      await mkdir(target, { recursive: true });
      continue;
    }
    await mkdir(join(target, ".."), { recursive: true });
    if (typeof content === "string") await writeFile(target, content, { mode: 0o755 });
    else await symlink(content.symlink, target);
  }
  const chosen = members.length === 1 && members[0] === "." ? ["."] : ["--no-recursion", ...members];
  execFileSync("tar", ["--numeric-owner", "-C", dir, "-cf", `${dir}.tar`, ...chosen]);
  return readFile(`${dir}.tar`);
}

/** Stores `bytes` as a blob of `layout`; its descriptor. */
export async function writeBlob(layout: string, mediaType: string, bytes: Buffer | string): Promise<Descriptor> {
  const data = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  const hex = createHash("sha256").update(data).digest("hex");
  await mkdir(join(layout, "blobs", "sha256"), { recursive: true });
  await writeFile(join(layout, "blobs", "sha256", hex), data);
  return { mediaType, digest: `sha256:${hex}`, size: data.length };
}

/** What a test layout holds. */
export interface LayoutSpec {
  /** Layer archives, lowest first, and whether to gzip each. */
  layers: Array<{ tar: Buffer; gzip?: boolean; mediaType?: string }>;
  /** The image config's "config" object. */
  config: Record<string, unknown>;
  /** The tag (org.opencontainers.image.ref.name) in index.json. */
  tag?: string;
}

/** The layout written: where, and the manifest's and layers' descriptors. */
export interface WrittenLayout {
  layout: string;
  manifest: Descriptor;
  layers: Descriptor[];
}

/** Writes an OCI image layout at `layout`. */
export async function writeLayout(layout: string, spec: LayoutSpec): Promise<WrittenLayout> {
  await mkdir(layout, { recursive: true });
  await writeFile(join(layout, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  const layers: Descriptor[] = [];
  for (const layer of spec.layers) {
    const gz = layer.gzip === true;
    const mediaType = layer.mediaType ?? (gz ? "application/vnd.oci.image.layer.v1.tar+gzip" : "application/vnd.oci.image.layer.v1.tar");
    layers.push(await writeBlob(layout, mediaType, gz ? gzipSync(layer.tar) : layer.tar));
  }
  const config = await writeBlob(
    layout,
    "application/vnd.oci.image.config.v1+json",
    JSON.stringify({ architecture: "amd64", os: "linux", config: spec.config, rootfs: { type: "layers", diff_ids: [] } }),
  );
  const manifest = await writeBlob(
    layout,
    "application/vnd.oci.image.manifest.v1+json",
    JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config, layers }),
  );
  const entry = spec.tag === undefined ? manifest : { ...manifest, annotations: { "org.opencontainers.image.ref.name": spec.tag } };
  await writeFile(join(layout, "index.json"), JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [entry] }));
  return { layout, manifest, layers };
}

/** The path of the blob `descriptor` names in `layout`. */
export function blobPath(layout: string, descriptor: Descriptor): string {
  return join(layout, "blobs", "sha256", descriptor.digest.slice("sha256:".length));
}
