/**
 * The runtime wrapper under Podman 4.3 (the engine harness's private storage, run root and containers.conf; its podman
 * CLI, not its service), through `podman --runtime <wrapper>` and through a runtime named in containers.conf.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { podmanTools, startPodmanService, type PodmanService } from "../support/engines/podman.js";
import { describeWithTools, toolPath } from "../support/tools.js";
import { containerSeen, probeWrapper, readTrace, removeTempDirs } from "./helpers.js";

let p: PodmanService;
let trace: string;
let wrapper: string;

/** Runs podman and fails the test on a non-zero exit. */
async function podman(args: readonly string[]): Promise<string> {
  const r = await p.podman(args);
  if (r.code !== 0) throw new Error(`podman ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r.stdout.trim();
}

/** Removes containers whatever happened. */
async function removeContainers(...ids: readonly (string | undefined)[]): Promise<void> {
  const real = ids.filter((id): id is string => id !== undefined && id !== "");
  if (real.length > 0) await p.podman(["rm", "--force", "--time", "0", ...real]);
}

describeWithTools(podmanTools, "the runtime wrapper under Podman 4.3", () => {
  beforeAll(async () => {
    ({ trace, wrapper } = await probeWrapper(toolPath("runc")));
    p = await startPodmanService({ runtimes: { hp: wrapper } });
  }, 60_000);

  afterAll(async () => {
    await p?.stop();
    await removeTempDirs();
  }, 60_000);

  it("podman --runtime <wrapper> runs the plugins' hooks in priority order", async () => {
    const id = await podman(["run", "--runtime", wrapper, "--network", "none", "-d", "bb", "true"]);
    try {
      await podman(["wait", id]);
      expect(readTrace(trace, id).map((run) => run.name)).toEqual(["probe-early", "probe-late"]);
    } finally {
      await removeContainers(id);
    }
  });

  it("gives the hooks the OCI state on stdin (id, pid, bundle) with the args and env their plugin gave them", async () => {
    const id = await podman(["run", "--runtime", wrapper, "--network", "none", "-d", "bb", "true"]);
    try {
      await podman(["wait", id]);
      const [early, late] = readTrace(trace, id);
      expect(early!.state).toMatchObject({ id, bundle: join(p.dir, "root/vfs-containers", id, "userdata") });
      expect(early!.state.pid).toBeGreaterThan(1);
      expect(late!.state.pid).toBe(early!.state.pid);
      expect(early!.args).toEqual(["an arg with spaces", `id=${id}`]);
      expect([early!.mark, late!.mark]).toEqual(["probe-early-env", "probe-late-env"]);
    } finally {
      await removeContainers(id);
    }
  });

  it("preStart gets a container object with Podman's annotations, env, limits and root filesystem", async () => {
    const id = await podman(["run", "--runtime", wrapper, "--network", "none", "-d", "-m", "64m", "-e", "A=b", "bb", "true"]);
    try {
      await podman(["wait", id]);
      const container = containerSeen(trace, id);
      expect(container.Config!.SpecAnnotation).toMatchObject({ "io.container.manager": "libpod" });
      expect(container.Config!.Env).toContain("A=b");
      expect(container.HostConfig!.Memory).toBe(67108864);
      expect(existsSync(join(container.GraphDriver!.Data.MergedDir!, "bin/busybox"))).toBe(true);
    } finally {
      await removeContainers(id);
    }
  });

  it("a plugin step of 8 s, inside the wrapper's 10 s default, is still within Podman's own limits", async () => {
    const id = await podman(["run", "--runtime", wrapper, "--network", "none", "-d", "-e", "PROBE_SLEEP_MS=4000", "bb", "true"]);
    try {
      await podman(["wait", id]);
      expect(readTrace(trace, id).map((run) => run.name)).toEqual(["probe-early", "probe-late"]);
    } finally {
      await removeContainers(id);
    }
  }, 30_000);

  it("podman inspect shows the container running on the wrapper", async () => {
    let id: string | undefined;
    try {
      id = await podman(["run", "--runtime", wrapper, "--network", "none", "-d", "bb", "sleep", "60"]);
      expect(await podman(["inspect", "--format", "{{.State.Status}} {{.State.Running}} {{.OCIRuntime}}", id])).toBe(`running true ${wrapper}`);
    } finally {
      await removeContainers(id);
    }
  });

  it("podman restart runs the hooks again", async () => {
    let id: string | undefined;
    try {
      id = await podman(["run", "--runtime", wrapper, "--network", "none", "-d", "bb", "sleep", "60"]);
      await podman(["restart", "--time", "0", id]);
      const runs = readTrace(trace, id);
      expect(runs.map((run) => run.name)).toEqual(["probe-early", "probe-late", "probe-early", "probe-late"]);
      expect(runs[2]!.state.pid).not.toBe(runs[0]!.state.pid);
    } finally {
      await removeContainers(id);
    }
  });

  it("a failing plugin fails podman run with its name, its hook and its reason in podman's error", async () => {
    const r = await p.podman(["run", "--rm", "--runtime", wrapper, "--network", "none", "-e", "PROBE_FAIL=probe-late", "bb", "true"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(
      /Error: OCI runtime error: .*hookplugins runtime wrapper \(container [0-9a-f]{64}\): plugin \\"probe-late\\" failed in ContainerPlugin\.preStart: refused by the test \(PROBE_FAIL=probe-late\)/,
    );
  });

  it("a runtime named in containers.conf ([engine.runtimes]) and chosen by name runs the hooks", async () => {
    let id: string | undefined;
    try {
      id = await podman(["run", "--runtime", "hp", "--network", "none", "-d", "bb", "sleep", "60"]);
      expect(await podman(["inspect", "--format", "{{.State.Running}} {{.OCIRuntime}}", id])).toBe("true hp");
      expect(readTrace(trace, id).map((run) => run.name)).toEqual(["probe-early", "probe-late"]);
    } finally {
      await removeContainers(id);
    }
  });
});
