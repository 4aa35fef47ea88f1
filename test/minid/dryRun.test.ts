import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { bundleDir, startTestDaemon, type TestDaemon } from "./helpers.js";

let d: TestDaemon;
beforeAll(async () => {
  // as on a machine without busybox-static, whatever this one has
  d = await startTestDaemon(undefined, { busybox: false, dryRun: "auto" });
});
afterAll(async () => {
  await d.close();
});

it("without busybox-static minid runs in dry-run mode and says why", () => {
  expect(d.daemon.context.runtime.name).toBe("dry-run");
  expect(d.daemon.dryRunReason).toMatch(/runc|root|busybox/);
});

it("without busybox-static the busybox image is a placeholder root filesystem", () => {
  const image = d.daemon.context.images.resolve("busybox");
  expect(image?.comment).toContain("placeholder");
  expect(existsSync(join(image?.rootfs ?? "", "PLACEHOLDER"))).toBe(true);
  expect(existsSync(join(image?.rootfs ?? "", "bin", "busybox"))).toBe(false);
});

it("without busybox-static a busybox container is created and started in dry-run mode, and its bundle written", async () => {
  const created = await d.api("POST", "/v1.47/containers/create", JSON.stringify({ Image: "busybox", Cmd: ["echo", "hi"] }));
  expect(created.status).toBe(201);
  const id = (created.json as { Id: string }).Id;
  expect((await d.api("POST", `/v1.47/containers/${id}/start`)).status).toBe(204);
  expect(existsSync(join(bundleDir(d.stateDir, id), "config.json"))).toBe(true);
});

it("without busybox-static pulling busybox answers with the placeholder image", async () => {
  const r = await d.api("POST", "/v1.47/images/create?fromImage=busybox&tag=latest");
  expect(r.status).toBe(200);
  expect(r.body.toString()).toContain(d.daemon.context.images.resolve("busybox")?.id ?? "?");
});
