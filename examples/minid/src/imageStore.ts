/**
 * Image store: images are plain root filesystem directories with a small JSON record.
 * The default "busybox" image is built from the host's busybox-static binary; `docker import`-style
 * archives are unpacked with the system tar.
 */
import { createHash } from "node:crypto";
import { copyFile, lstat, mkdir, readdir, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough, type Readable } from "node:stream";
import { execFileChecked } from "./exec.js";

/** One stored image. */
export interface ImageRecord {
  /** "sha256:<64 hex>". */
  id: string;
  /** "name:tag" references pointing at the image. */
  repoTags: string[];
  /** ISO creation time. */
  created: string;
  /** Default command of containers made from it. */
  cmd: string[];
  /** Free text from the import. */
  comment: string;
  /** Directory holding the root filesystem. */
  rootfs: string;
  /** Bytes the root filesystem takes: the sum of its files' and symlinks' sizes (missing in records of older minids). */
  size?: number;
}

/** The sum of the sizes of every file and symlink under `dir` (what `docker images` shows as an image's size). */
export async function directorySize(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await directorySize(path);
    else total += (await lstat(path)).size;
  }
  return total;
}

/** "busybox" -> "busybox:latest"; "docker.io/library/x:1" -> "x:1"; ids are left alone. */
export function normalizeRef(ref: string): string {
  let name = ref.replace(/^(docker\.io\/)?library\//, "").replace(/^docker\.io\//, "");
  if (/^sha256:/.test(name) || /^[0-9a-f]{12,64}$/.test(name)) return name;
  const slash = name.lastIndexOf("/");
  if (!name.slice(slash + 1).includes(":")) name += ":latest";
  return name;
}

/** Splits the `repo`/`tag` query parameters of an import into one "name:tag" reference. */
export function importRef(repo: string | null, tag: string | null): string | undefined {
  if (!repo) return undefined;
  return normalizeRef(tag ? `${repo}:${tag}` : repo);
}

/** The images of one state directory. */
export class ImageStore {
  readonly #dir: string;
  readonly #images = new Map<string, ImageRecord>();

  /** A store keeping its images under `dir`. */
  constructor(dir: string) {
    this.#dir = dir;
  }

  /** Loads the images already in the directory. */
  async load(): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    for (const entry of await readdir(this.#dir)) {
      try {
        const record = JSON.parse(await readFile(join(this.#dir, entry, "image.json"), "utf8")) as ImageRecord;
        record.size ??= await directorySize(record.rootfs);
        this.#images.set(record.id, record);
      } catch {
        // half-written image: ignore it
      }
    }
  }

  /** Every image. */
  list(): ImageRecord[] {
    return [...this.#images.values()];
  }

  /** The image `ref` names: "name[:tag]", full id, "sha256:" id or a unique id prefix. */
  resolve(ref: string): ImageRecord | undefined {
    const wanted = normalizeRef(ref);
    for (const image of this.#images.values()) if (image.repoTags.includes(wanted)) return image;
    const hex = ref.replace(/^sha256:/, "");
    if (!/^[0-9a-f]{4,64}$/.test(hex)) return undefined;
    const matches = this.list().filter((image) => image.id.slice(7).startsWith(hex));
    return matches.length === 1 ? matches[0] : undefined;
  }

  /** Builds the busybox image from the static binary at `busybox` (one symlink per applet). */
  async buildBusybox(busybox: string, ref = "busybox:latest"): Promise<ImageRecord> {
    const binary = await readFile(busybox);
    const id = `sha256:${createHash("sha256").update("minid-busybox\0").update(binary).digest("hex")}`;
    const existing = this.#images.get(id);
    if (existing) return this.#tag(existing, normalizeRef(ref));
    const { stdout } = await execFileChecked(busybox, ["--list"]);
    return this.#store(id, [normalizeRef(ref)], ["sh"], `busybox from ${busybox}`, async (rootfs) => {
      for (const dir of ["bin", "dev", "etc", "proc", "sys", "tmp", "root", "var", "run"]) {
        await mkdir(join(rootfs, dir), { recursive: true });
      }
      await copyFile(busybox, join(rootfs, "bin", "busybox"));
      for (const applet of stdout.split("\n").map((s) => s.trim())) {
        if (applet && applet !== "busybox" && !applet.includes("/")) await symlink("busybox", join(rootfs, "bin", applet));
      }
      await writeFile(join(rootfs, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n");
      await writeFile(join(rootfs, "etc", "group"), "root:x:0:\nnogroup:x:65534:\n");
    });
  }

  /**
   * Stores a placeholder for `ref` where busybox-static is missing: the directory skeleton of a root filesystem and
   * a note, no programs. Enough for dry-run mode, which writes bundles and runs nothing.
   */
  async buildPlaceholder(ref: string): Promise<ImageRecord> {
    const note = "minid placeholder image: busybox-static was not installed when it was made; nothing here can run.\n";
    const id = `sha256:${createHash("sha256").update("minid-placeholder\0").update(ref).digest("hex")}`;
    const existing = this.#images.get(id);
    if (existing) return this.#tag(existing, normalizeRef(ref));
    return this.#store(id, [normalizeRef(ref)], ["sh"], "placeholder: busybox-static is not installed", async (rootfs) => {
      for (const dir of ["bin", "dev", "etc", "proc", "sys", "tmp", "root", "var", "run"]) {
        await mkdir(join(rootfs, dir), { recursive: true });
      }
      await writeFile(join(rootfs, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n");
      await writeFile(join(rootfs, "etc", "group"), "root:x:0:\nnogroup:x:65534:\n");
      await writeFile(join(rootfs, "PLACEHOLDER"), note);
    });
  }

  /** Imports a root filesystem tar archive (`docker import`); the id is the archive's sha256. */
  async importArchive(archive: Readable, ref: string | undefined, comment = ""): Promise<ImageRecord> {
    const hash = createHash("sha256");
    const tee = new PassThrough();
    archive.on("data", (chunk: Buffer) => hash.update(chunk));
    archive.on("error", (err) => tee.destroy(err));
    archive.pipe(tee);
    const staging = join(this.#dir, `.import-${process.pid}-${Date.now()}-${Math.random().toString(16).slice(2)}`);
    await mkdir(staging, { recursive: true });
    try {
      await execFileChecked("tar", ["-x", "-f", "-", "-C", staging], tee);
    } catch (err) {
      await rm(staging, { recursive: true, force: true });
      throw new Error(`cannot unpack image archive: ${(err as Error).message}`, { cause: err });
    }
    const id = `sha256:${hash.digest("hex")}`;
    const existing = this.#images.get(id);
    if (existing) {
      await rm(staging, { recursive: true, force: true });
      return ref ? this.#tag(existing, ref) : existing;
    }
    return this.#store(id, ref ? [ref] : [], ["sh"], comment, (rootfs) => rename(staging, rootfs));
  }

  async #store(
    id: string,
    repoTags: string[],
    cmd: string[],
    comment: string,
    fill: (rootfs: string) => Promise<void>,
  ): Promise<ImageRecord> {
    const dir = join(this.#dir, id.slice(7));
    const rootfs = join(dir, "rootfs");
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await fill(rootfs);
    await mkdir(rootfs, { recursive: true });
    const record: ImageRecord = { id, repoTags: [], created: new Date().toISOString(), cmd, comment, rootfs, size: await directorySize(rootfs) };
    this.#images.set(id, record);
    for (const tag of repoTags) await this.#tag(record, tag);
    await this.#save(record);
    return record;
  }

  /** Points `ref` at `image`, taking it away from any other image. */
  async #tag(image: ImageRecord, ref: string): Promise<ImageRecord> {
    for (const other of this.#images.values()) {
      if (other !== image && other.repoTags.includes(ref)) {
        other.repoTags = other.repoTags.filter((t) => t !== ref);
        await this.#save(other);
      }
    }
    if (!image.repoTags.includes(ref)) image.repoTags.push(ref);
    await this.#save(image);
    return image;
  }

  async #save(image: ImageRecord): Promise<void> {
    await writeFile(join(this.#dir, image.id.slice(7), "image.json"), JSON.stringify(image, null, 2));
  }
}
