/**
 * The runtime wrapper under containerd 1.6 (the engine harness's standalone containerd, CRI off, with its busybox
 * image), through `ctr run --runc-binary <wrapper>`: containerd's runc shim calls the wrapper instead of runc.
 */
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { containerdTools, startContainerd, type Containerd } from "../support/engines/containerd.js";
import { describeWithTools, toolPath } from "../support/tools.js";
import { containerSeen, probeWrapper, readTrace, removeTempDirs, waitFor } from "./helpers.js";

let c: Containerd;
let trace: string;
let wrapper: string;

/** `ctr run` of container `id` from the harness's image through the wrapper, with `options` before the image; fails the test on a non-zero exit. */
async function ctrRun(id: string, options: readonly string[], command: readonly string[]): Promise<string> {
  const r = await c.ctr(["run", "--runc-binary", wrapper, ...options, c.image, id, ...command]);
  if (r.code !== 0) throw new Error(`ctr run ${id} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** Removes container `id` and its task, whatever state they are in. */
async function removeContainer(id: string): Promise<void> {
  await c.ctr(["task", "kill", "--signal", "SIGKILL", id]);
  await waitFor(async () => !/RUNNING/.test((await c.ctr(["task", "ls"])).stdout.split("\n").find((l) => l.startsWith(`${id} `)) ?? ""), 10_000, `task ${id} to stop`).catch(() => undefined);
  await c.ctr(["task", "rm", "--force", id]);
  await c.ctr(["container", "rm", id]);
}

describeWithTools(containerdTools, "the runtime wrapper under containerd 1.6 (ctr run --runc-binary)", () => {
  beforeAll(async () => {
    ({ trace, wrapper } = await probeWrapper(toolPath("runc")));
    c = await startContainerd({ cri: false });
  }, 60_000);

  afterAll(async () => {
    await c?.stop();
    await removeTempDirs();
  }, 60_000);

  it("runs the plugins' hooks in priority order", async () => {
    await ctrRun("order", ["--rm"], ["/bin/true"]);
    expect(readTrace(trace, "order").map((run) => run.name)).toEqual(["probe-early", "probe-late"]);
  });

  it("gives the hooks the OCI state on stdin (id, pid, bundle) with the args and env their plugin gave them", async () => {
    await ctrRun("state", ["--rm"], ["/bin/true"]);
    const [early, late] = readTrace(trace, "state");
    expect(early!.state).toMatchObject({ id: "state", bundle: join(c.dir, "state/io.containerd.runtime.v2.task", c.namespace, "state") });
    expect(early!.state.pid).toBeGreaterThan(1);
    expect(late!.state.pid).toBe(early!.state.pid);
    expect(early!.args).toEqual(["an arg with spaces", "id=state"]);
    expect([early!.mark, late!.mark]).toEqual(["probe-early-env", "probe-late-env"]);
  });

  it("preStart gets a container object with ctr's command, env and root filesystem", async () => {
    await ctrRun("object", ["--rm", "--env", "A=b"], ["/bin/true", "x"]);
    expect(containerSeen(trace, "object")).toMatchObject({
      Id: "object",
      Path: "/bin/true",
      Args: ["x"],
      Config: { Env: expect.arrayContaining(["A=b"]) as unknown },
      GraphDriver: { Data: { MergedDir: join(c.dir, "state/io.containerd.runtime.v2.task", c.namespace, "object/rootfs") } },
    });
  });

  it("a plugin step of 8 s, inside the wrapper's 10 s default, is still within containerd's own limits", async () => {
    await ctrRun("slow", ["--rm", "--env", "PROBE_SLEEP_MS=4000"], ["/bin/true"]);
    expect(readTrace(trace, "slow").map((run) => run.name)).toEqual(["probe-early", "probe-late"]);
  }, 30_000);

  it("ctr task ls shows the task running", async () => {
    try {
      await ctrRun("running", ["--detach"], ["/bin/sleep", "60"]);
      const line = (await c.ctr(["task", "ls"])).stdout.split("\n").find((l) => l.startsWith("running "));
      expect(line).toMatch(/^running\s+\d+\s+RUNNING$/);
      expect(readTrace(trace, "running").map((run) => run.name)).toEqual(["probe-early", "probe-late"]);
    } finally {
      await removeContainer("running");
    }
  });

  it("a failing plugin fails ctr run with its name, its hook and its reason in ctr's error", async () => {
    try {
      const r = await c.ctr(["run", "--rm", "--runc-binary", wrapper, "--env", "PROBE_FAIL=probe-early", c.image, "failing", "/bin/true"]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(
        'OCI runtime create failed: hookplugins runtime wrapper (container failing): plugin "probe-early" failed in ContainerPlugin.preStart: refused by the test (PROBE_FAIL=probe-early)',
      );
    } finally {
      await removeContainer("failing");
    }
  });
});
