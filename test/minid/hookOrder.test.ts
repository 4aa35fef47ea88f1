import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { PrestartHook } from "hookplugins";
import { afterAll, beforeAll, expect, it } from "vitest";
import { hookPath, hookTraceFile, readStateSnippet } from "../../examples/minid/src/networkHook.js";
import { bundleDir, itRunningContainers, ociConfigValidator, startTestDaemon, type TestDaemon } from "./helpers.js";

/** A prestart hook that appends `name` to the bundle's trace file, like minid's network hook does. */
function traceHook(name: string, priority: number): PrestartHook {
  return { priority, path: "/bin/sh", args: ["-c", `${readStateSnippet}; echo ${name} >> "$bundle/${hookTraceFile}"`], env: [hookPath] };
}

let d: TestDaemon;
beforeAll(async () => {
  d = await startTestDaemon((registry) => {
    // Registered low first, so only priorities can put them in the right order.
    registry.registerContainerPlugin({ name: "trace-low", priority: -5, preStart: () => [traceHook("plugin-low", -5)] });
    registry.registerContainerPlugin({ name: "trace-high", priority: 10, preStart: () => [traceHook("plugin-high", 10)] });
  });
});
afterAll(async () => {
  await d.close();
});

itRunningContainers("runc runs the plugin hook at 10, then the daemon's network hook at 0, then the plugin hook at -5", async () => {
  const id = (await d.docker("create", "busybox", "true")).stdout.trim();
  expect((await d.docker("start", id)).code).toBe(0);
  await d.docker("wait", id);
  const trace = await readFile(join(bundleDir(d.stateDir, id), hookTraceFile), "utf8");
  expect(trace.split("\n").filter(Boolean)).toEqual(["plugin-high", "network", "plugin-low"]);
});

itRunningContainers("the config.json runc ran lists the merged hooks in priority order and validates against the OCI schema", async () => {
  const id = (await d.docker("create", "busybox", "true")).stdout.trim();
  await d.docker("start", id);
  await d.docker("wait", id);
  const config = JSON.parse(await readFile(join(bundleDir(d.stateDir, id), "config.json"), "utf8")) as {
    hooks: { prestart: Array<{ path: string; args: string[] }> };
  };
  const names = config.hooks.prestart.map((h) => (h.path === "/bin/sh" ? /echo (\S+)/.exec(h.args[2] ?? "")?.[1] : "network"));
  expect(names).toEqual(["plugin-high", "network", "plugin-low"]);
  expect((ociConfigValidator())(config)).toEqual([]);
});

itRunningContainers("a failing prestart hook makes docker start fail with runc's error and leaves the container exited", async () => {
  const failing = d.registry.registerContainerPlugin({
    name: "broken-hook",
    preStart: () => [{ priority: 1, path: "/bin/false" }],
  });
  try {
    const id = (await d.docker("create", "busybox", "true")).stdout.trim();
    const start = await d.docker("start", id);
    expect(start.code).not.toBe(0);
    expect(start.stderr).toMatch(/hook/i);
    expect((await d.docker("inspect", "-f", "{{.State.Status}}", id)).stdout.trim()).toBe("exited");
  } finally {
    failing();
  }
});
