/**
 * The runtime wrapper under a real dockerd 20.10 (Debian's docker.io), driven by the docker CLI: as a named runtime
 * (`runtimes` in the daemon's config file, `docker run --runtime hp`) and as the default runtime. The wrapper runs
 * two probe plugins (priority 10 and -5, see fixtures/probePlugin.ts) on the real runc; their hooks trace the OCI
 * state they get and whether Docker's own network hook has already bound the container's network namespace.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { handoffPath, writeHandoff } from "hookplugins/runtime";
import { startDockerd, type Dockerd } from "../docker/dockerd.js";
import { describeWithTools, toolPath } from "../support/tools.js";
import { containerSeen, probeHookScript, probeWrapper, readTrace, removeTempDirs, waitFor } from "./helpers.js";

let d: Dockerd;
let dir: string;
let trace: string;
let handoffs: string;
let wrapper: string;

/** Runs docker and fails the test on a non-zero exit. */
async function docker(args: readonly string[]): Promise<string> {
  const r = await d.docker(args, { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`docker ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r.stdout.trim();
}

/** `docker run --rm` of `args` with a cidfile: resolves with the container's full id. */
async function runRm(args: readonly string[]): Promise<string> {
  const cidfile = join(dir, `cid-${Date.now()}-${Math.random().toString(16).slice(2)}`);
  await docker(["run", "--rm", "--cidfile", cidfile, ...args]);
  return readFileSync(cidfile, "utf8").trim();
}

/** Removes containers whatever happened. */
async function removeContainers(...ids: readonly (string | undefined)[]): Promise<void> {
  const real = ids.filter((id): id is string => id !== undefined && id !== "");
  if (real.length > 0) await d.docker(["rm", "-f", ...real]);
}

describeWithTools(["root", "dockerd", "docker", "runc", "busybox", "containerd"], "the runtime wrapper under a real dockerd", () => {
  beforeAll(async () => {
    ({ dir, trace, handoffs, wrapper } = await probeWrapper(toolPath("runc")));
    d = await startDockerd({ config: { runtimes: { hp: { path: wrapper } } } });
  }, 120_000);

  afterAll(async () => {
    await d?.stop();
    await removeTempDirs();
  }, 60_000);

  it("docker run --runtime hp: the plugins' hooks run at priority 10 before Docker's network hook and at -5 after it", async () => {
    const id = await runRm(["--runtime", "hp", "--network", "none", "bb", "true"]);
    expect(readTrace(trace, id).map((run) => [run.name, run.net])).toEqual([
      ["probe-early", "unregistered"],
      ["probe-late", "registered"],
    ]);
  });

  it("the hooks get the OCI state on stdin (id, pid, bundle) with the args and env their plugin gave them", async () => {
    const id = await runRm(["--runtime", "hp", "--network", "none", "bb", "true"]);
    const [early, late] = readTrace(trace, id);
    expect(early!.state).toMatchObject({ id, bundle: expect.stringMatching(new RegExp(`/moby/${id}$`)) as unknown });
    expect(early!.state.pid).toBeGreaterThan(1);
    expect(late!.state.pid).toBe(early!.state.pid);
    expect(early!.args).toEqual(["an arg with spaces", `id=${id}`]);
    expect([early!.mark, late!.mark]).toEqual(["probe-early-env", "probe-late-env"]);
  });

  it("Docker's network hook still works: dockerd bound the container's network namespace to its sandbox key, and lo is up", async () => {
    let id: string | undefined;
    try {
      id = await docker(["run", "-d", "--runtime", "hp", "--network", "none", "bb", "sleep", "60"]);
      const [pid, key] = (await docker(["inspect", "-f", "{{.State.Pid}} {{.NetworkSettings.SandboxKey}}", id])).split(" ");
      expect(statSync(key!).ino).toBe(statSync(`/proc/${pid}/ns/net`).ino);
      expect(await docker(["exec", id, "ip", "link", "show", "lo"])).toMatch(/<LOOPBACK,UP,LOWER_UP>/);
    } finally {
      await removeContainers(id);
    }
  });

  it("docker inspect shows the container running, on runtime hp", async () => {
    let id: string | undefined;
    try {
      id = await docker(["run", "-d", "--runtime", "hp", "--network", "none", "bb", "sleep", "60"]);
      expect(await docker(["inspect", "-f", "{{.State.Status}} {{.State.Running}} {{.HostConfig.Runtime}}", id])).toBe("running true hp");
      expect(readTrace(trace, id).map((run) => run.name)).toEqual(["probe-early", "probe-late"]);
    } finally {
      await removeContainers(id);
    }
  });

  it("preStart gets a container object with docker run's command, env, limits, mounts and root filesystem", async () => {
    let id: string | undefined;
    try {
      const options = ["-m", "64m", "--cpu-shares", "512", "--pids-limit", "50", "-e", "A=b", "-v", `${dir}:/host:ro`];
      id = await docker(["run", "-d", "--runtime", "hp", "--network", "none", ...options, "bb", "sleep", "60"]);
      const container = containerSeen(trace, id);
      expect(container).toMatchObject({ Id: id, Path: "sleep", Args: ["60"], Config: { Cmd: ["sleep", "60"], Hostname: id.slice(0, 12) } });
      expect(container.Config!.Env).toContain("A=b");
      expect(container.HostConfig).toMatchObject({ Memory: 67108864, CpuShares: 512, PidsLimit: 50 });
      expect(container.Mounts).toContainEqual(expect.objectContaining({ Destination: "/host", Source: dir, RW: false, Type: "bind" }));
      expect(existsSync(join(container.GraphDriver!.Data.MergedDir!, "bin/busybox"))).toBe(true);
    } finally {
      await removeContainers(id);
    }
  });

  it("a failing plugin fails docker run with its name, its hook and its reason in the docker CLI's error", async () => {
    const r = await d.docker(["run", "--rm", "--runtime", "hp", "--network", "none", "-e", "PROBE_FAIL=probe-late", "bb", "true"], { timeoutMs: 60_000 });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(
      /docker: Error response from daemon: failed to create shim task: OCI runtime create failed: hookplugins runtime wrapper \(container [0-9a-f]{64}\): plugin "probe-late" failed in ContainerPlugin\.preStart: refused by the test \(PROBE_FAIL=probe-late\)/,
    );
  });

  it("a plugin step of 8 s, inside the wrapper's 10 s default, is still within dockerd's own limits", async () => {
    const id = await runRm(["--runtime", "hp", "--network", "none", "-e", "PROBE_SLEEP_MS=4000", "bb", "true"]);
    expect(readTrace(trace, id).map((run) => run.name)).toEqual(["probe-early", "probe-late"]);
  }, 30_000);

  it("uses a hand-off written as the proxy would instead of running preStart, and removes it", async () => {
    let id: string | undefined;
    try {
      id = await docker(["create", "--runtime", "hp", "--network", "none", "bb", "sleep", "60"]);
      await writeHandoff(handoffs, { version: 1, id, createdAt: new Date().toISOString(), source: "docker-proxy", hooks: [{ priority: 3, path: probeHookScript, args: [trace, "from-handoff"] }] });
      await docker(["start", id]);
      expect(readTrace(trace, id).map((run) => [run.name, run.net])).toEqual([["from-handoff", "unregistered"]]);
      expect(existsSync(handoffPath(handoffs, id))).toBe(false);
    } finally {
      await removeContainers(id);
    }
  });

  it("docker restart runs the hooks again (no new hand-off: the wrapper runs preStart itself)", async () => {
    let id: string | undefined;
    try {
      id = await docker(["run", "-d", "--runtime", "hp", "--network", "none", "bb", "sleep", "60"]);
      await docker(["restart", "-t", "0", id]);
      const runs = readTrace(trace, id);
      expect(runs.map((run) => run.name)).toEqual(["probe-early", "probe-late", "probe-early", "probe-late"]);
      expect(runs[2]!.state.pid).not.toBe(runs[0]!.state.pid);
    } finally {
      await removeContainers(id);
    }
  });

  it("a restart policy runs the hooks at every restart", async () => {
    let id: string | undefined;
    try {
      id = await docker(["run", "-d", "--runtime", "hp", "--network", "none", "--restart", "on-failure:2", "bb", "sh", "-c", "exit 3"]);
      await waitFor(async () => (await docker(["inspect", "-f", "{{.RestartCount}} {{.State.Status}}", id!])) === "2 exited", 30_000, "two restarts");
      expect(readTrace(trace, id).map((run) => run.name)).toEqual(["probe-early", "probe-late", "probe-early", "probe-late", "probe-early", "probe-late"]);
    } finally {
      await removeContainers(id);
    }
  });

  it("as dockerd's default runtime, docker run without --runtime gets the hooks, on a bridge network at 10 before Docker's network hook and at -5 after it", async () => {
    let id: string | undefined;
    const network = "hp-default-rt";
    try {
      await d.reload({ runtimes: { hp: { path: wrapper } }, "default-runtime": "hp" });
      await docker(["network", "create", "--driver", "bridge", network]);
      id = await docker(["run", "-d", "--network", network, "bb", "sleep", "60"]);
      expect(await docker(["inspect", "-f", "{{.HostConfig.Runtime}} {{.State.Running}}", id])).toBe("hp true");
      expect(readTrace(trace, id).map((run) => [run.name, run.net])).toEqual([
        ["probe-early", "unregistered"],
        ["probe-late", "registered"],
      ]);
    } finally {
      await removeContainers(id);
      await d.docker(["network", "rm", network]);
      await d.reload({ runtimes: { hp: { path: wrapper } } });
    }
  });

  it("a plugin that never settles fails docker run at the wrapper's default 10 s, inside dockerd's own wait, naming the plugin", async () => {
    const started = Date.now();
    const r = await d.docker(["run", "--rm", "--runtime", "hp", "--network", "none", "-e", "PROBE_HANG=async", "bb", "true"], { timeoutMs: 60_000 });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("OCI runtime create failed");
    expect(r.stderr).toContain('the plugin step did not finish within 10000 ms (plugin "probe-early" did not finish ContainerPlugin.preStart in time); the container was not created');
  }, 30_000);
});
