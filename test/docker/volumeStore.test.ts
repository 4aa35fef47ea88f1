import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { VolumeStore, VolumeStoreError, volumeStateFileName } from "../../src/docker/volumeStore.js";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "volstore-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("the volume store", () => {
  it("creates a directory per volume under the root and lists the volume with its mountpoint", async () => {
    const store = await VolumeStore.open(root);
    await store.create("v1", { size: "1g" });
    expect(existsSync(join(root, "v1"))).toBe(true);
    expect(store.list()).toEqual([expect.objectContaining({ Name: "v1", Mountpoint: join(root, "v1"), Status: { options: { size: "1g" }, mountedBy: 0 } })]);
  });

  it("puts a listed volume's data back at start when a crash left it moved aside by a remove", async () => {
    const store = await VolumeStore.open(root);
    await store.create("v1");
    await writeFile(join(root, "v1", "data.txt"), "kept");
    // the crash: remove moved the folder aside, and the list was not written yet
    const { rename } = await import("node:fs/promises");
    await rename(join(root, "v1"), join(root, ".trash-v1-0123abcd"));
    await VolumeStore.open(root);
    expect(await readFile(join(root, "v1", "data.txt"), "utf8")).toBe("kept");
    expect((await readdir(root)).filter((e) => e.startsWith(".trash-"))).toEqual([]);
  });

  it("answers undefined from get for a missing volume", async () => {
    const store = await VolumeStore.open(root);
    expect(store.get("nope")).toBeUndefined();
  });

  it("keeps the volumes, their options and their mounts across a restart", async () => {
    const store = await VolumeStore.open(root);
    await store.create("a", { k: "v" });
    await store.create("b");
    await store.mount("a", "c1");
    const again = await VolumeStore.open(root);
    expect(again.list().map((v) => v.Name)).toEqual(["a", "b"]);
    expect(again.record("a")).toMatchObject({ options: { k: "v" }, mounts: { c1: 1 } });
  });

  it("keeps a volume mounted while any caller ID still has a Mount without its Unmount", async () => {
    const store = await VolumeStore.open(root);
    await store.create("v");
    expect(await store.mount("v", "c1")).toBe(join(root, "v"));
    await store.mount("v", "c1");
    await store.mount("v", "c2");
    await store.unmount("v", "c1");
    await store.unmount("v", "c2");
    expect(store.mountCount("v")).toBe(1);
    await store.unmount("v", "c1");
    expect(store.mountCount("v")).toBe(0);
  });

  it("refuses to remove a mounted volume, naming the containers, and removes it once unmounted", async () => {
    const store = await VolumeStore.open(root);
    await store.create("v");
    await writeFile(join(root, "v", "data"), "x");
    await store.mount("v", "0123456789abcdef");
    await expect(store.remove("v")).rejects.toThrow("volume v is in use by 1 container (0123456789ab); remove them first");
    expect(existsSync(join(root, "v", "data"))).toBe(true);
    await store.unmount("v", "0123456789abcdef");
    await store.remove("v");
    expect(existsSync(join(root, "v"))).toBe(false);
    expect(store.list()).toEqual([]);
    expect((await VolumeStore.open(root)).list()).toEqual([]);
  });

  it("fails Remove, Mount and Unmount of a missing volume with 'no such volume'", async () => {
    const store = await VolumeStore.open(root);
    await expect(store.remove("x")).rejects.toThrow("no such volume: x");
    await expect(store.mount("x", "c")).rejects.toThrow("no such volume: x");
    await expect(store.unmount("x", "c")).rejects.toThrow("no such volume: x");
  });

  it("rejects names that are not one safe path segment", async () => {
    const store = await VolumeStore.open(root);
    for (const name of ["../etc", "a/b", ".hidden", "", "x".repeat(256)]) {
      await expect(store.create(name)).rejects.toBeInstanceOf(VolumeStoreError);
    }
    expect(await readdir(root)).toEqual([]);
  });

  it("treats creating an existing volume with the same options as a no-op and with other options as an error", async () => {
    const store = await VolumeStore.open(root);
    await store.create("v", { a: "1" });
    await writeFile(join(root, "v", "keep"), "x");
    await store.create("v", { a: "1" });
    expect(existsSync(join(root, "v", "keep"))).toBe(true);
    await expect(store.create("v", { a: "2" })).rejects.toThrow("already exists with other options");
  });

  it("loses no update under 100 concurrent creates, mounts and unmounts", async () => {
    const store = await VolumeStore.open(root);
    const names = Array.from({ length: 20 }, (_, i) => `v${i}`);
    await Promise.all(names.map((n) => store.create(n)));
    await Promise.all(names.flatMap((n) => [store.mount(n, "a"), store.mount(n, "b"), store.mount(n, "a")]));
    await Promise.all(names.map((n) => store.unmount(n, "a")));
    const again = await VolumeStore.open(root);
    expect(again.list()).toHaveLength(20);
    for (const n of names) expect(again.record(n)?.mounts).toEqual({ a: 1, b: 1 });
  });

  it("changes nothing when the list cannot be written: the store's state stays as it was and no temp file is left", async () => {
    const store = await VolumeStore.open(root);
    await store.create("a");
    // a directory where the list file goes: the atomic write's final rename fails (also for root)
    await rm(join(root, volumeStateFileName));
    await mkdir(join(root, volumeStateFileName));
    await expect(store.mount("a", "c")).rejects.toThrow();
    await expect(store.create("b")).rejects.toThrow();
    expect(store.mountCount("a")).toBe(0);
    expect(store.list().map((v) => v.Name)).toEqual(["a"]);
    expect((await readdir(root)).sort()).toEqual([volumeStateFileName, "a"]);
  });

  it("refuses to start from a corrupt volume list and leaves it alone", async () => {
    await writeFile(join(root, volumeStateFileName), "{oops");
    await expect(VolumeStore.open(root)).rejects.toThrow(/is not valid JSON .*restore it or move it away/);
    expect(await readFile(join(root, volumeStateFileName), "utf8")).toBe("{oops");
  });

  it("clears the leftovers of a removal interrupted before the list was written, and recreates a listed volume's missing directory", async () => {
    const store = await VolumeStore.open(root);
    await store.create("a");
    await rm(join(root, "a"), { recursive: true });
    await writeFile(join(root, ".trash-b-1234"), "x");
    await VolumeStore.open(root);
    expect(existsSync(join(root, "a"))).toBe(true);
    expect(existsSync(join(root, ".trash-b-1234"))).toBe(false);
  });
});
