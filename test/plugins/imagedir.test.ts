import { existsSync, readFileSync, readlinkSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHost, createRegistry } from "hookplugins";
import { createImageDirPlugin, ImageDirError, resolveImageDirRef } from "../../hookplugins/imagedir/index.js";
import { blobPath, tarLayer, writeLayout, type LayoutSpec } from "./imagedirLayout.js";

let work: string;
let cache: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), "imagedir-test-"));
  cache = join(work, "cache");
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

/** A two-layer image: the second layer deletes one file of the first (whiteout) and empties a folder (opaque). */
async function twoLayerSpec(): Promise<LayoutSpec> {
  const lower = await tarLayer(join(work, "l1"), {
    "bin/hello": "#!/bin/sh\necho hello\n",
    "bin/sh": { symlink: "hello" },
    "etc/gone": "removed by the upper layer\n",
    "var/cache/old": "emptied by the upper layer\n",
  });
  const upper = await tarLayer(join(work, "l2"), {
    "etc/.wh.gone": "",
    "var/cache/.wh..wh..opq": "",
    "var/cache/new": "from the upper layer\n",
    "etc/motd": "upper\n",
  });
  return { layers: [{ tar: lower, gzip: true }, { tar: upper }], config: { Cmd: ["/bin/hello"], Env: ["A=1"], WorkingDir: "/" }, tag: "1.0" };
}

describe("dir: references", () => {
  it("resolve to the folder itself, with the config from <folder>.config.json beside it", async () => {
    const rootfs = join(work, "app");
    await tarLayer(rootfs, { "bin/app": "x" });
    await writeFile(`${rootfs}.config.json`, JSON.stringify({ config: { Cmd: ["/bin/app"], Env: ["MODE=dir"] } }));
    const image = await resolveImageDirRef(`dir:${rootfs}`, cache);
    expect(image).toEqual({ ref: `dir:${rootfs}`, rootfs, config: { Cmd: ["/bin/app"], Env: ["MODE=dir"] } });
  });

  it("resolve with an empty config when no config file is beside the folder", async () => {
    const rootfs = join(work, "bare");
    await tarLayer(rootfs, { "bin/app": "x" });
    expect((await resolveImageDirRef(`dir:${rootfs}`, cache))?.config).toEqual({});
  });

  it("naming a missing folder is refused with the reference and the fix", async () => {
    const ref = `dir:${join(work, "nowhere")}`;
    await expect(resolveImageDirRef(ref, cache)).rejects.toThrow(`image "${ref}": ${join(work, "nowhere")} is not a folder; point dir: at a root filesystem folder`);
  });
});

describe("oci: references", () => {
  it("resolve to the layers unpacked in order, whiteouts applied, with the image config and the manifest digest", async () => {
    const { layout, manifest } = await writeLayout(join(work, "layout"), await twoLayerSpec());
    const image = await resolveImageDirRef(`oci:${layout}:1.0`, cache);
    const rootfs = join(cache, manifest.digest.slice(7), "rootfs");
    expect(image).toEqual({ ref: `oci:${layout}:1.0`, rootfs, digest: manifest.digest, config: { Cmd: ["/bin/hello"], Env: ["A=1"], WorkingDir: "/" } });
    expect(readFileSync(join(rootfs, "bin/hello"), "utf8")).toBe("#!/bin/sh\necho hello\n");
    expect(readlinkSync(join(rootfs, "bin/sh"))).toBe("hello");
    expect(readFileSync(join(rootfs, "etc/motd"), "utf8")).toBe("upper\n");
    expect(existsSync(join(rootfs, "etc/gone"))).toBe(false);
    expect(existsSync(join(rootfs, "etc/.wh.gone"))).toBe(false);
    expect(existsSync(join(rootfs, "var/cache/old"))).toBe(false);
    expect(readFileSync(join(rootfs, "var/cache/new"), "utf8")).toBe("from the upper layer\n");
  });

  it("without a tag resolve the layout's only image", async () => {
    const { layout, manifest } = await writeLayout(join(work, "layout"), await twoLayerSpec());
    expect((await resolveImageDirRef(`oci:${layout}`, cache))?.digest).toBe(manifest.digest);
  });

  it("are unpacked once: a second resolution uses the cache, even when the layer blobs are gone", async () => {
    const { layout, layers } = await writeLayout(join(work, "layout"), await twoLayerSpec());
    const first = await resolveImageDirRef(`oci:${layout}:1.0`, cache);
    for (const layer of layers) await rm(blobPath(layout, layer));
    expect(await resolveImageDirRef(`oci:${layout}:1.0`, cache)).toEqual(first);
  });

  it("two resolutions at once share one unpack and both get the image", async () => {
    const { layout } = await writeLayout(join(work, "layout"), await twoLayerSpec());
    const [a, b] = await Promise.all([resolveImageDirRef(`oci:${layout}`, cache), resolveImageDirRef(`oci:${layout}`, cache)]);
    expect(a?.rootfs).toBe(b?.rootfs);
    expect(readFileSync(join(a!.rootfs, "etc/motd"), "utf8")).toBe("upper\n");
  });

  it("a layer whose bytes do not match its digest is refused, naming the reference, both digests and the fix", async () => {
    const { layout, layers } = await writeLayout(join(work, "layout"), await twoLayerSpec());
    await writeFile(blobPath(layout, layers[1]!), "tampered");
    const error = await resolveImageDirRef(`oci:${layout}:1.0`, cache).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageDirError);
    expect((error as Error).message).toMatch(new RegExp(`^image "oci:${layout}:1.0": the layer blob .* has digest sha256:[0-9a-f]{64}, not the ${layers[1]!.digest} its descriptor names; the blob was changed or damaged: copy the layout again$`));
  });

  it("a missing layout folder is refused, naming the reference and what a layout holds", async () => {
    const ref = `oci:${join(work, "none")}:1.0`;
    await expect(resolveImageDirRef(ref, cache)).rejects.toThrow(`image "${ref}": the OCI layout folder ${join(work, "none")} does not exist; point oci: at an OCI image layout folder (with oci-layout, index.json and blobs/)`);
  });

  it("a tag the layout does not have is refused, listing the tags it has", async () => {
    const { layout } = await writeLayout(join(work, "layout"), await twoLayerSpec());
    await expect(resolveImageDirRef(`oci:${layout}:2.0`, cache)).rejects.toThrow(`has no image tagged "2.0" (tags: 1.0); use one of its tags, e.g. oci:${layout}:1.0`);
  });

  it("a layer media type it cannot unpack (zstd) is refused, naming the type", async () => {
    const spec = await twoLayerSpec();
    spec.layers[1] = { ...spec.layers[1]!, mediaType: "application/vnd.oci.image.layer.v1.tar+zstd" };
    const { layout } = await writeLayout(join(work, "layout"), spec);
    await expect(resolveImageDirRef(`oci:${layout}`, cache)).rejects.toThrow('has the media type "application/vnd.oci.image.layer.v1.tar+zstd", which imagedir cannot unpack');
  });

  it("a layer that writes through a symlink of a lower layer is refused and writes nothing outside the image", async () => {
    const outside = join(work, "outside");
    const lower = await tarLayer(join(work, "evil1"), { escape: { symlink: outside } });
    const upper = await tarLayer(join(work, "evil2"), { "escape/planted": "owned\n" }, ["escape/planted"]);
    const { layout } = await writeLayout(join(work, "layout"), { layers: [{ tar: lower }, { tar: upper }], config: {} });
    await expect(resolveImageDirRef(`oci:${layout}`, cache)).rejects.toThrow('entry "escape/planted" passes through the symlink "escape"');
    expect(existsSync(join(outside, "planted"))).toBe(false);
  });

  it("a layer without entries for the folders of its files gets those folders made", async () => {
    const bare = await tarLayer(join(work, "bare"), { "opt/app/bin/run": "run\n" }, ["opt/app/bin/run"]);
    const { layout, manifest } = await writeLayout(join(work, "layout"), { layers: [{ tar: bare }], config: {} });
    await resolveImageDirRef(`oci:${layout}`, cache);
    expect(readFileSync(join(cache, manifest.digest.slice(7), "rootfs", "opt/app/bin/run"), "utf8")).toBe("run\n");
  });

  it("a layer cut before its end-of-archive blocks is refused as truncated and leaves no image", async () => {
    const whole = await tarLayer(join(work, "cut"), { "bin/app": "x".repeat(3000) });
    const { layout } = await writeLayout(join(work, "layout"), { layers: [{ tar: whole.subarray(0, 2048) }], config: {} });
    await expect(resolveImageDirRef(`oci:${layout}`, cache)).rejects.toThrow(/cannot be unpacked: .*[Tt]runcated.*; rebuild the image/);
    await expect(resolveImageDirRef(`oci:${layout}`, cache)).rejects.toThrow(/Truncated input/);
  });

  it("a layer with paths longer than ustar's 100 bytes (GNU and pax long names) unpacks them whole", async () => {
    const deep = `${"d".repeat(120)}/${"n".repeat(110)}`;
    const { layout, manifest } = await writeLayout(join(work, "layout"), { layers: [{ tar: await tarLayer(join(work, "long"), { [deep]: "deep\n" }) }], config: {} });
    await resolveImageDirRef(`oci:${layout}`, cache);
    expect(readFileSync(join(cache, manifest.digest.slice(7), "rootfs", deep), "utf8")).toBe("deep\n");
  });

  it("a layer that is not a tar archive is refused as damaged", async () => {
    const { layout } = await writeLayout(join(work, "layout"), { layers: [{ tar: Buffer.alloc(1024, 7) }], config: {} });
    await expect(resolveImageDirRef(`oci:${layout}`, cache)).rejects.toThrow(/cannot be unpacked: TAR_ENTRY_INVALID: checksum failure: not a tar archive, or a damaged one/);
  });
});

describe("other references", () => {
  it.each(["busybox", "busybox:latest", "docker.io/library/alpine:3", "sha256:0123"])("%s is not imagedir's: undefined", async (ref) => {
    expect(await resolveImageDirRef(ref, cache)).toBeUndefined();
  });

  it("a relative dir: path is refused with an absolute example", async () => {
    await expect(resolveImageDirRef("dir:images/app", cache)).rejects.toThrow('image "dir:images/app": the path "images/app" is not absolute; write the folder as an absolute path, e.g. dir:/srv/images/app');
  });
});

describe("imagedir through a host", () => {
  it("answers host.image.resolveImage for its references and names itself as the provider", async () => {
    const registry = createRegistry();
    registry.registerImagePlugin(createImageDirPlugin({ cacheDir: cache }));
    const { layout, manifest } = await writeLayout(join(work, "layout"), await twoLayerSpec());
    const host = createHost({ registry });
    const resolution = await host.image.resolveImage(`oci:${layout}:1.0`);
    expect(resolution?.plugin).toBe("imagedir");
    expect(resolution?.image.digest).toBe(manifest.digest);
    expect(await host.image.resolveImage("busybox")).toBeUndefined();
    await host.close();
  });

  it("a broken reference of its own fails the resolution with an error naming the plugin and the reference", async () => {
    const registry = createRegistry();
    registry.registerImagePlugin(createImageDirPlugin({ cacheDir: cache }));
    const host = createHost({ registry });
    const ref = `oci:${join(work, "none")}`;
    await expect(host.image.resolveImage(ref)).rejects.toThrow(`plugin "imagedir" failed in ImagePlugin.resolveImage: image "${ref}": the OCI layout folder`);
    await host.close();
  });
});
