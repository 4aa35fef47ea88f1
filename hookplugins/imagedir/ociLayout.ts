/**
 * `oci:/path/to/layout[:tag]`: an OCI image layout (oci-layout, index.json, blobs/sha256/...). The manifest is found
 * through index.json (by the tag's org.opencontainers.image.ref.name, or the only one), every blob's sha256 is checked,
 * and the layers (tar, or gzip-compressed tar) are unpacked in order into `<cacheDir>/<manifest hex>/rootfs`, once.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { arch } from "node:process";
import { join } from "node:path";
import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import { ImageDirError } from "./imageRef.js";
import type { ImageRunConfig, ResolvedImage } from "hookplugins";
import { readTar, TarFormatError } from "./tarReader.js";
import { unpackLayer, UnsafeLayerEntryError } from "./unpackLayer.js";

const gunzipAsync = promisify(gunzip);

/** An OCI content descriptor (the fields imagedir reads). */
interface Descriptor {
  mediaType?: string;
  digest?: string;
  size?: number;
  annotations?: Record<string, string>;
  platform?: { os?: string; architecture?: string };
}

const indexTypes = new Set(["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"]);
const manifestTypes = new Set(["application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json"]);
const layerTypes = new Map([
  ["application/vnd.oci.image.layer.v1.tar", "tar"],
  ["application/vnd.oci.image.layer.v1.tar+gzip", "gzip"],
  ["application/vnd.oci.image.layer.nondistributable.v1.tar", "tar"],
  ["application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", "gzip"],
  ["application/vnd.docker.image.rootfs.diff.tar.gzip", "gzip"],
]);
const refNameKey = "org.opencontainers.image.ref.name";
const goArch: Readonly<Record<string, string>> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x" };

/** Reads one OCI layout of one reference; every failure is an ImageDirError naming the reference and the fix. */
class LayoutReader {
  constructor(
    readonly ref: string,
    readonly layout: string,
  ) {}

  fail(problem: string, fix: string, cause?: unknown): never {
    throw new ImageDirError(this.ref, problem, fix, cause === undefined ? undefined : { cause });
  }

  async json(path: string, what: string): Promise<Record<string, unknown>> {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (err) {
      return this.fail(`cannot read ${what} ${path}: ${(err as Error).message}`, "point oci: at an OCI image layout folder (with oci-layout, index.json and blobs/)", err);
    }
    try {
      const value = JSON.parse(text) as unknown;
      if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
    } catch (err) {
      return this.fail(`${what} ${path} is not JSON`, "write the layout again (e.g. with skopeo copy or umoci)", err);
    }
    return this.fail(`${what} ${path} is not a JSON object`, "write the layout again (e.g. with skopeo copy or umoci)");
  }

  /** The bytes of the blob `descriptor` names, after checking its sha256 (and size, when given). */
  async blob(descriptor: Descriptor, what: string): Promise<Buffer> {
    const match = /^sha256:([0-9a-f]{64})$/.exec(descriptor.digest ?? "");
    if (!match?.[1]) {
      return this.fail(`the ${what}'s digest ${JSON.stringify(descriptor.digest)} is not a sha256 digest`, 'imagedir checks "sha256:<64 hex digits>" digests only; write the layout with sha256');
    }
    const path = join(this.layout, "blobs", "sha256", match[1]);
    const bytes = await readFile(path).catch((err: unknown) =>
      this.fail(`the ${what} blob ${path} cannot be read: ${(err as Error).message}`, "copy the layout again: a blob is missing", err),
    );
    const actual = createHash("sha256").update(bytes).digest("hex");
    if (actual !== match[1]) {
      this.fail(`the ${what} blob ${path} has digest sha256:${actual}, not the sha256:${match[1]} its descriptor names`, "the blob was changed or damaged: copy the layout again");
    }
    if (typeof descriptor.size === "number" && descriptor.size !== bytes.length) {
      this.fail(`the ${what} blob ${path} has ${bytes.length} bytes, not the ${descriptor.size} its descriptor names`, "copy the layout again");
    }
    return bytes;
  }

  async blobJson(descriptor: Descriptor, what: string): Promise<Record<string, unknown>> {
    const bytes = await this.blob(descriptor, what);
    try {
      return JSON.parse(bytes.toString("utf8")) as Record<string, unknown>;
    } catch (err) {
      return this.fail(`the ${what} blob ${descriptor.digest} is not JSON`, "copy the layout again", err);
    }
  }

  /** The manifest descriptor for `tag` in an index's manifest list (nested indexes followed; the host's platform picked). */
  async manifest(index: Record<string, unknown>, tag: string | undefined, where: string): Promise<Descriptor> {
    const all = (Array.isArray(index.manifests) ? index.manifests : []) as Descriptor[];
    const tagged = tag === undefined ? all : all.filter((d) => d.annotations?.[refNameKey] === tag);
    const names = all.map((d) => d.annotations?.[refNameKey]).filter((n): n is string => n !== undefined);
    if (tagged.length === 0) {
      if (tag !== undefined) this.fail(`${where} has no image tagged "${tag}" (tags: ${names.join(", ") || "none"})`, `use one of its tags, e.g. oci:${this.layout}:${names[0] ?? "latest"}`);
      this.fail(`${where} lists no manifest`, "write the layout again with an image in it");
    }
    let chosen = tagged[0]!;
    if (tagged.length > 1) {
      const platform = tagged.find((d) => d.platform?.os === "linux" && d.platform.architecture === goArch[arch]);
      if (!platform) this.fail(`${where} lists ${tagged.length} manifests for ${tag === undefined ? "no tag" : `tag "${tag}"`}`, `name one by its tag (oci:${this.layout}:<tag>; tags: ${names.join(", ") || "none"})`);
      chosen = platform;
    }
    if (chosen.mediaType !== undefined && indexTypes.has(chosen.mediaType)) {
      return this.manifest(await this.blobJson(chosen, "image index"), undefined, `the image index ${chosen.digest}`);
    }
    if (chosen.mediaType !== undefined && !manifestTypes.has(chosen.mediaType)) {
      this.fail(`the manifest ${chosen.digest} has the unknown media type "${chosen.mediaType}"`, `imagedir reads ${[...manifestTypes].join(", ")}`);
    }
    return chosen;
  }
}

/** The layers of a manifest, with how each is compressed; throws for a media type imagedir cannot unpack. */
function layersOf(reader: LayoutReader, manifest: Record<string, unknown>): Array<{ descriptor: Descriptor; compression: string }> {
  const layers = (Array.isArray(manifest.layers) ? manifest.layers : []) as Descriptor[];
  return layers.map((descriptor) => {
    const compression = layerTypes.get(descriptor.mediaType ?? "");
    if (!compression) {
      reader.fail(`layer ${descriptor.digest} has the media type "${descriptor.mediaType}", which imagedir cannot unpack`, `imagedir unpacks ${[...layerTypes.keys()].join(", ")}; convert the image (e.g. skopeo copy --dest-compress-format gzip)`);
    }
    return { descriptor, compression };
  });
}

/** Unpacks every layer of `manifest` into a new folder `rootfs`. */
async function unpackLayers(reader: LayoutReader, manifest: Record<string, unknown>, rootfs: string): Promise<void> {
  await mkdir(rootfs, { recursive: true });
  for (const { descriptor, compression } of layersOf(reader, manifest)) {
    const blob = await reader.blob(descriptor, "layer");
    try {
      const gzipped = blob[0] === 0x1f && blob[1] === 0x8b;
      const tar = compression === "gzip" || gzipped ? await gunzipAsync(blob) : blob;
      await unpackLayer(rootfs, await readTar(tar));
    } catch (err) {
      if (err instanceof TarFormatError || err instanceof UnsafeLayerEntryError || (err as { code?: string }).code?.startsWith("Z_")) {
        reader.fail(`layer ${descriptor.digest} cannot be unpacked: ${(err as Error).message}`, "rebuild the image: its layer is not a valid, self-contained tar archive", err);
      }
      throw err;
    }
  }
}

/** Unpacks in progress, by cache folder: two requests for one image in one process share one unpack. */
const unpacking = new Map<string, Promise<void>>();

/** Resolves an `oci:` reference: reads and checks the layout, unpacks it into `cacheDir` when not there yet. */
export async function resolveOciImage(ref: string, layout: string, tag: string | undefined, cacheDir: string): Promise<ResolvedImage> {
  const reader = new LayoutReader(ref, layout);
  if (!(await stat(layout).catch(() => undefined))?.isDirectory()) {
    reader.fail(`the OCI layout folder ${layout} does not exist`, "point oci: at an OCI image layout folder (with oci-layout, index.json and blobs/)");
  }
  const marker = await reader.json(join(layout, "oci-layout"), "the layout marker");
  if (typeof marker.imageLayoutVersion !== "string") reader.fail(`${join(layout, "oci-layout")} has no imageLayoutVersion`, 'write {"imageLayoutVersion": "1.0.0"} there');
  const descriptor = await reader.manifest(await reader.json(join(layout, "index.json"), "the index"), tag, join(layout, "index.json"));
  const manifest = await reader.blobJson(descriptor, "manifest");
  if (manifest.mediaType !== undefined && !manifestTypes.has(String(manifest.mediaType))) {
    reader.fail(`the manifest ${descriptor.digest} has the unknown media type "${String(manifest.mediaType)}"`, `imagedir reads ${[...manifestTypes].join(", ")}`);
  }
  const digest = descriptor.digest!;
  const folder = join(cacheDir, digest.slice("sha256:".length));
  const rootfs = join(folder, "rootfs");
  const done = join(folder, "image.json");
  const cached = await readFile(done, "utf8").catch(() => undefined);
  if (cached !== undefined) return { ref, rootfs, config: (JSON.parse(cached) as { config: ImageRunConfig }).config, digest };
  const configBlob = await reader.blobJson((manifest.config ?? {}) as Descriptor, "config");
  const config = (configBlob.config ?? {}) as ImageRunConfig;
  let job = unpacking.get(folder);
  if (!job) {
    job = (async () => {
      const staging = `${folder}.unpacking-${process.pid}-${Date.now()}`;
      await rm(staging, { recursive: true, force: true });
      try {
        await unpackLayers(reader, manifest, join(staging, "rootfs"));
        await writeFile(join(staging, "image.json"), JSON.stringify({ ref, digest, config }, null, 2));
        await rm(folder, { recursive: true, force: true });
        await rename(staging, folder);
      } catch (err) {
        await rm(staging, { recursive: true, force: true });
        throw err;
      }
    })().finally(() => unpacking.delete(folder));
    unpacking.set(folder, job);
  }
  await job;
  return { ref, rootfs, config, digest };
}
