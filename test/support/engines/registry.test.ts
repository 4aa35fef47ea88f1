/**
 * The registry harness (startRegistry, pushBusybox) with a real dockerd (test/docker/dockerd.ts): the registry
 * answers on 127.0.0.1 and a free port, takes bb pushed from dockerd, dockerd pulls it back for real after
 * `docker rmi` and runs it, and stop() leaves nothing behind.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { startDockerd, type Dockerd } from "../../docker/dockerd.js";
import { leftoversOf } from "./processes.js";
import { pushBusybox, registryTools, startRegistry, type Registry } from "./registry.js";
import { describeWithTools } from "../tools.js";

describeWithTools([...registryTools, "root", "dockerd", "containerd", "docker", "runc", "busybox"], "startRegistry: a local registry dockerd pushes to and pulls from", () => {
  let registry: Registry;
  let d: Dockerd;

  beforeAll(async () => {
    [registry, d] = await Promise.all([startRegistry(), startDockerd()]);
  }, 120_000);

  afterAll(async () => {
    await d?.stop();
    await registry?.stop();
  }, 120_000);

  it("answers the registry API on 127.0.0.1 and a port of its own", async () => {
    expect(registry.address).toMatch(/^127\.0\.0\.1:\d+$/);
    const response = await fetch(`http://${registry.address}/v2/`);
    expect(response.status).toBe(200);
    expect(response.headers.get("docker-distribution-api-version")).toBe("registry/2.0");
  });

  it("takes bb pushed from dockerd and lists it in its catalog", async () => {
    expect(await pushBusybox(d, registry)).toBe(`${registry.address}/bb:1`);
    const catalog = (await (await fetch(`http://${registry.address}/v2/_catalog`)).json()) as { repositories: string[] };
    expect(catalog.repositories).toContain("bb");
    const tags = (await (await fetch(`http://${registry.address}/v2/bb/tags/list`)).json()) as { tags: string[] };
    expect(tags.tags).toEqual(["1"]);
  }, 60_000);

  it("serves the image back to dockerd after docker rmi, and the pulled image runs", async () => {
    const reference = `${registry.address}/bb:1`;
    expect((await d.docker(["rmi", reference])).code).toBe(0);
    expect((await d.docker(["image", "inspect", reference])).code).not.toBe(0);
    const pulled = await d.docker(["pull", reference], { timeoutMs: 60_000 });
    expect(pulled.stderr).toBe("");
    expect(pulled.stdout).toContain(`Downloaded newer image for ${reference}`);
    const r = await d.docker(["run", "--rm", "--network", "none", reference, "echo", "pulled"]);
    expect(r.stdout).toBe("pulled\n");
  }, 60_000);

  it("stop() stops the registry and removes its folder, and is idempotent", async () => {
    await registry.stop();
    await registry.stop();
    expect(leftoversOf(registry.dir)).toEqual({ processes: [], mounts: [], folderExists: false });
    await expect(fetch(`http://${registry.address}/v2/`)).rejects.toThrow();
  });
});
