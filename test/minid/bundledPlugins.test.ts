import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { defaultRegistry } from "hookplugins";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// The plugins compiled into minid: importing the generated module registers them in the default registry.
import { includedPlugins } from "../../examples/minid/src/plugins.generated.js";
import { helperProcess } from "../../hookplugins/helperprocess/index.js";
import { bundleDir, itRunningContainers, itWithDocker, startTestDaemon, type TestDaemon } from "./helpers.js";

const limitsEnv = ["-e", "HOOKPLUGINS_MEMORY=512m", "-e", "HOOKPLUGINS_CPU_SHARES=512"];

let d: TestDaemon;
beforeAll(async () => {
  d = await startTestDaemon(undefined, { registry: defaultRegistry });
});
afterAll(async () => {
  await d.close();
});

it("the generated module includes the shipped plugins in minid's build", () => {
  expect(defaultRegistry.list().map((p) => p.name)).toEqual(["envlimits", "helperprocess", "prestart-early", "prestart-late"]);
  expect(includedPlugins).toHaveLength(4);
});

describe("the env-limits plugin compiled into minid", () => {
  itWithDocker("shows its limits in docker inspect as HostConfig.Memory and HostConfig.CpuShares", async () => {
    const id = (await d.docker("create", ...limitsEnv, "busybox", "true")).stdout.trim();
    const r = await d.docker("inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.CpuShares}}", id);
    expect(r.stdout.trim()).toBe(`${512 * 1024 * 1024} 512`);
  });

  itRunningContainers("puts its limits into the OCI bundle and runc applies them to the container's cgroup", async () => {
    const id = (
      await d.docker("create", ...limitsEnv, "busybox", "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/cpu/cpu.shares")
    ).stdout.trim();
    await d.docker("start", id);
    await d.docker("wait", id);
    const config = JSON.parse(await readFile(join(bundleDir(d.stateDir, id), "config.json"), "utf8")) as {
      linux: { resources: { memory?: { limit: number }; cpu?: { shares: number } } };
    };
    expect(config.linux.resources.memory).toEqual({ limit: 512 * 1024 * 1024 });
    expect(config.linux.resources.cpu).toEqual({ shares: 512 });
    expect((await d.docker("logs", id)).stdout.split("\n").filter(Boolean)).toEqual([String(512 * 1024 * 1024), "512"]);
  });

  itWithDocker("leaves containers without the variables unlimited", async () => {
    const id = (await d.docker("create", "busybox", "true")).stdout.trim();
    const r = await d.docker("inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.CpuShares}}", id);
    expect(r.stdout.trim()).toBe("0 0");
  });
});

itRunningContainers("runc runs the shipped prestart-early hook, then minid's network hook, then prestart-late", async () => {
  const id = (await d.docker("create", "busybox", "true")).stdout.trim();
  await d.docker("start", id);
  await d.docker("wait", id);
  const trace = await readFile(join(bundleDir(d.stateDir, id), "prestart.trace"), "utf8");
  expect(trace.split("\n").filter(Boolean)).toEqual(["prestart-early", "network", "prestart-late"]);
});

describe("the helperprocess daemon plugin compiled into minid", () => {
  it("runs its helper process while the daemon serves", () => {
    expect(helperProcess.running).toBe(true);
    expect(helperProcess.pid).toBeGreaterThan(0);
  });

  it("stops its helper process when the daemon stops", async () => {
    const pid = helperProcess.pid ?? 0;
    await d.daemon.stop();
    expect(helperProcess.running).toBe(false);
    expect(() => process.kill(pid, 0)).toThrow();
  });
});
