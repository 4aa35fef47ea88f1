import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import type { ContainerJSON, PluginRegistry } from "hookplugins";
import { createImageDirPlugin } from "../../hookplugins/imagedir/index.js";
import { tarLayer, writeLayout } from "../plugins/imagedirLayout.js";
import { findTool, itWithTools } from "../support/tools.js";
import { startTestDaemon, type TestDaemon } from "./helpers.js";

let work: string;
const daemons: TestDaemon[] = [];
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), "minid-imagedir-"));
});
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.close();
  await rm(work, { recursive: true, force: true });
});

async function daemonWithImageDir(options: { dryRun?: boolean } = {}): Promise<TestDaemon> {
  const plugin = createImageDirPlugin({ cacheDir: join(work, "cache") });
  const t = await startTestDaemon((r: PluginRegistry) => r.registerImagePlugin(plugin), options.dryRun ? { dryRun: true } : {});
  daemons.push(t);
  return t;
}

async function create(t: TestDaemon, body: Record<string, unknown>): Promise<{ status: number; id: string; message: string }> {
  const r = await t.api("POST", "/containers/create", JSON.stringify(body));
  const json = r.json as { Id?: string; message?: string };
  return { status: r.status, id: json.Id ?? "", message: json.message ?? "" };
}

itWithTools("root", "runc", "busybox")("a container made from an oci: reference runs the image's program through the imagedir plugin", async () => {
  const busybox = findTool("busybox")!;
  const layerDir = join(work, "layer");
  await mkdir(join(layerDir, "bin"), { recursive: true });
  await copyFile(busybox, join(layerDir, "bin", "busybox"));
  await symlink("busybox", join(layerDir, "bin", "sh"));
  const tar = await tarLayer(layerDir, { "etc/greeting": "hello from an OCI layout\n" });
  const { layout, manifest } = await writeLayout(join(work, "layout"), { layers: [{ tar, gzip: true }], config: { Cmd: ["/bin/busybox", "cat", "/etc/greeting"] }, tag: "v1" });
  const t = await daemonWithImageDir();
  const { status, id } = await create(t, { Image: `oci:${layout}:v1` });
  expect(status).toBe(201);
  expect((await t.api("POST", `/containers/${id}/start`)).status).toBe(204);
  await vi.waitFor(async () => expect(((await t.api("GET", `/containers/${id}/json`)).json as ContainerJSON).State?.Status).toBe("exited"), { timeout: 10_000 });
  const inspect = (await t.api("GET", `/containers/${id}/json`)).json as ContainerJSON;
  expect(inspect.State?.ExitCode).toBe(0);
  expect(inspect.Image).toBe(manifest.digest);
  const logs = await t.api("GET", `/containers/${id}/logs?stdout=1`);
  expect(logs.body.toString()).toContain("hello from an OCI layout");
});

it("a dir: image's config fills the container's: its Env, Cmd and WorkingDir, with the request's own entries winning", async () => {
  const rootfs = join(work, "app");
  await mkdir(join(rootfs, "srv"), { recursive: true });
  await writeFile(`${rootfs}.config.json`, JSON.stringify({ config: { Env: ["MODE=image", "KEEP=1"], Cmd: ["/bin/app"], WorkingDir: "/srv" } }));
  const t = await daemonWithImageDir({ dryRun: true });
  const { status, id } = await create(t, { Image: `dir:${rootfs}`, Env: ["MODE=request"] });
  expect(status).toBe(201);
  const { Config } = (await t.api("GET", `/containers/${id}/json`)).json as ContainerJSON;
  expect(Config?.Env).toEqual(["KEEP=1", "MODE=request"]);
  expect(Config?.Cmd).toEqual(["/bin/app"]);
  expect(Config?.WorkingDir).toBe("/srv");
});

it("a reference no image driver claims falls through to minid's own store", async () => {
  const t = await daemonWithImageDir({ dryRun: true });
  const { status, id } = await create(t, { Image: "busybox", Cmd: ["true"] });
  expect(status).toBe(201);
  const stored = t.daemon.context.images.resolve("busybox");
  expect(((await t.api("GET", `/containers/${id}/json`)).json as ContainerJSON).Image).toBe(stored?.id);
});

it("a broken reference of the driver's is a 500 naming the plugin, the reference and the fix", async () => {
  const t = await daemonWithImageDir({ dryRun: true });
  const ref = `oci:${join(work, "missing")}`;
  const { status, message } = await create(t, { Image: ref, Cmd: ["true"] });
  expect(status).toBe(500);
  expect(message).toContain(`plugin "imagedir" failed in ImagePlugin.resolveImage: image "${ref}": the OCI layout folder ${join(work, "missing")} does not exist; point oci: at an OCI image layout folder`);
});

it("a reference neither a driver nor the store has is a 404", async () => {
  const t = await daemonWithImageDir({ dryRun: true });
  const { status, message } = await create(t, { Image: "nosuchimage:1" });
  expect(status).toBe(404);
  expect(message).toBe("No such image: nosuchimage:1");
});
