import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, expect, it } from "vitest";
import { itWithDocker, startTestDaemon, type TestDaemon } from "./helpers.js";

let d: TestDaemon;
beforeAll(async () => {
  d = await startTestDaemon(undefined, { dryRun: true });
  expect((await d.api("POST", "/v1.47/containers/create?name=counted", JSON.stringify({ Image: "busybox", Cmd: ["true"] }))).status).toBe(201);
});
afterAll(async () => {
  await d.close();
});

/** What `find` says the files and symlinks under `dir` take, in bytes (a measure independent of minid's own). */
function bytesUnder(dir: string): number {
  const sizes = execFileSync("find", [dir, "(", "-type", "f", "-o", "-type", "l", ")", "-printf", "%s\\n"], { encoding: "utf8" });
  return sizes.split("\n").filter(Boolean).reduce((sum, n) => sum + Number(n), 0);
}

itWithDocker("docker info prints minid's server section with no error", async () => {
  const r = await d.docker("info");
  expect(r.code).toBe(0);
  expect(r.stdout).toContain("Server Version: 0.1.0");
  expect(r.stdout).toContain("Storage Driver: minid-copy");
  expect(`${r.stdout}${r.stderr}`).not.toMatch(/page not found|errors pretty printing/);
});

itWithDocker("docker info reads the container and image counts and the swarm state from GET /info", async () => {
  const r = await d.docker("info", "--format", "{{.Containers}} {{.ContainersStopped}} {{.Images}} {{.Swarm.LocalNodeState}} {{.DefaultRuntime}}");
  expect(r.stdout.trim()).toBe("1 1 1 inactive dry-run");
});

itWithDocker("docker inspect of a name nothing has says only 'No such object'", async () => {
  const r = await d.docker("inspect", "ghost");
  expect(r.code).toBe(1);
  expect(r.stderr.trim()).toBe("Error: No such object: ghost");
});

itWithDocker("docker images shows an image's real age and size", async () => {
  const r = await d.docker("images", "--format", "{{.Repository}}:{{.Tag}}|{{.CreatedSince}}|{{.Size}}");
  const [name, age, size] = r.stdout.trim().split("|");
  expect(name).toBe("busybox:latest");
  expect(age).toMatch(/^(Less than a second|\d+ seconds?|About a minute|\d+ minutes) ago$/);
  expect(size).toMatch(/^\d+(\.\d+)?(B|kB|MB)$/);
  expect(size).not.toBe("0B");
});

it("GET /images/json lists images in the Engine's shape: Created in Unix seconds and Size in bytes", async () => {
  const r = await d.api("GET", "/v1.47/images/json");
  const [image] = r.json as Array<{ Id: string; RepoTags: string[]; Created: number; Size: number }>;
  const rootfs = d.daemon.context.images.resolve("busybox")?.rootfs ?? "";
  expect(image?.RepoTags).toEqual(["busybox:latest"]);
  expect(Number.isInteger(image?.Created)).toBe(true);
  expect(Math.abs(Date.now() / 1000 - (image?.Created ?? 0))).toBeLessThan(600);
  expect(image?.Size).toBe(bytesUnder(rootfs));
  expect(image?.Size).toBeGreaterThan(0);
});
