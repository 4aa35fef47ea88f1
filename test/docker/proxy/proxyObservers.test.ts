/**
 * The Docker API proxy's observer hook points against a real dockerd 20.10, driven by the docker CLI through the
 * proxy: `ContainerPlugin.postStart` after each start it passed (never for a 304, never failing the start), and
 * `ContainerPlugin.onExit` from its one event subscription: a signal, an exit status of its own, a container removed
 * at once, the OOM killer where the machine has a memory controller, after postStart for the same start, across
 * restarts of dockerd (live-restore: containers run on while it is down) with no exit reported twice, and nothing
 * after the proxy closed.
 * The calls are recorded where the proxy makes them, on host.container (observerRecorder.ts).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHost, createRegistry, type Host } from "hookplugins";
import { createDockerProxy, type DockerProxy } from "hookplugins/docker";
import { runCommand, sleep, type RunResult } from "../../support/engines/processes.js";
import { describeWithTools } from "../../support/tools.js";
import { findOnPath, startDockerd, type Dockerd } from "../dockerd.js";
import { callsOf, recordingHost, settledCalls, type RecordedCall, type Recorder } from "./observerRecorder.js";

/** A proxy with its recorded calls and log lines. */
interface Observed extends Recorder {
  readonly proxy: DockerProxy;
  readonly socket: string;
  readonly logs: string[];
}

let d: Dockerd;
let host: Host;
let main: Observed;
const name = (what: string): string => `${what}-${process.pid}`;

async function startObserved(file: string): Promise<Observed> {
  const observed = { calls: [], logs: [] } as unknown as { -readonly [K in keyof Observed]: Observed[K] };
  observed.socket = join(d.dir, file);
  observed.proxy = await createDockerProxy({ host: recordingHost(host, () => observed), listen: observed.socket, upstream: `unix://${d.socketPath}`, handoffDir: join(d.dir, "handoff"), log: (line) => observed.logs.push(line), daemonHooks: false, observers: true });
  return observed;
}

/** The docker CLI through `via`'s proxy. */
function docker(args: readonly string[], via: Observed = main): Promise<RunResult> {
  const env = { PATH: process.env["PATH"], HOME: d.dir, DOCKER_CONFIG: join(d.dir, "cli"), DOCKER_HOST: `unix://${via.socket}` };
  return runCommand(findOnPath("docker")!, args, env, 60_000);
}

/** The full id of container `n` (asked of dockerd directly). */
async function idOf(n: string): Promise<string> {
  return (await d.docker(["inspect", "-f", "{{.Id}}", n])).stdout.trim();
}

function callsFor(id: string, hook: RecordedCall["hook"]): RecordedCall[] {
  return callsOf(main.calls, hook, (c) => c.Id === id);
}

/** The calls of `hook` for container `id`, settled (see settledCalls). */
function settled(id: string, hook: RecordedCall["hook"], count = 1, o: Observed = main): Promise<RecordedCall[]> {
  return settledCalls(o.calls, hook, (c) => c.Id === id, count);
}

/** Why the OOM killer cannot be provoked in a container here, or undefined when it can. */
function oomSkipReason(): string | undefined {
  if (existsSync("/sys/fs/cgroup/cgroup.controllers")) {
    return readFileSync("/sys/fs/cgroup/cgroup.controllers", "utf8").split(/\s+/).includes("memory") ? undefined : "cgroup v2 without the memory controller: a memory limit cannot be enforced here";
  }
  return existsSync("/sys/fs/cgroup/memory/memory.limit_in_bytes") ? undefined : "no cgroup memory controller (v1 or v2) mounted: a memory limit cannot be enforced here";
}

describeWithTools(["root", "dockerd", "docker", "runc", "busybox"], "postStart and onExit through the Docker API proxy in front of a real dockerd", () => {
  beforeAll(async () => {
    // live-restore: containers run on while dockerd restarts, so that one can exit in the gap
    d = await startDockerd({ config: { "live-restore": true } });
    host = createHost({ registry: createRegistry(), timeoutMs: 5000 });
    main = await startObserved("proxy.sock");
  }, 120_000);

  afterAll(async () => {
    await main?.proxy.close({ graceMs: 2000 });
    await host?.close();
    await d?.stop();
  }, 120_000);

  it("runs postStart once after docker start through the proxy, with the engine's inspect of the running container", async () => {
    expect((await docker(["create", "--name", name("started"), "--network", "none", "bb", "sleep", "300"])).code).toBe(0);
    const id = await idOf(name("started"));
    expect(callsFor(id, "postStart")).toHaveLength(0);
    expect(await docker(["start", name("started")])).toMatchObject({ code: 0, stderr: "" });
    const calls = await settled(id, "postStart");
    expect(calls).toHaveLength(1);
    expect(calls[0]!.container).toMatchObject({ Id: id, Name: `/${name("started")}`, State: { Running: true } });
    expect(calls[0]!.container.State!.Pid).toBeGreaterThan(0);
  });

  it("does not run postStart when the engine answers 304 for a container already running", async () => {
    const id = await idOf(name("started"));
    expect((await docker(["start", name("started")])).code).toBe(0);
    expect(await settled(id, "postStart")).toHaveLength(1);
  });

  it("starts the container and answers as the engine did when postStart fails, and logs the plugin's failure", async () => {
    main.failPrefix = "broken";
    try {
      const run = await docker(["run", "-d", "--name", name("broken"), "--network", "none", "bb", "sleep", "300"]);
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
      const id = await idOf(name("broken"));
      expect(await settled(id, "postStart")).toHaveLength(1);
      expect((await d.docker(["inspect", "-f", "{{.State.Running}}", id])).stdout.trim()).toBe("true");
      expect(main.logs).toContain(`hookplugins docker-proxy: container ${id.slice(0, 12)}: plugin "broken" failed in ContainerPlugin.postStart: it always fails; fix the plugin`);
    } finally {
      main.failPrefix = undefined;
    }
  });

  it("reports a container killed with SIGKILL once: code 137, signal SIGKILL, not OOM, with its inspect", async () => {
    expect((await docker(["run", "-d", "--name", name("killed"), "--network", "none", "bb", "sleep", "300"])).code).toBe(0);
    const id = await idOf(name("killed"));
    expect((await docker(["kill", "-s", "SIGKILL", name("killed")])).code).toBe(0);
    const calls = await settled(id, "onExit");
    expect(calls).toHaveLength(1);
    const { FinishedAt: finishedAt } = JSON.parse((await d.docker(["inspect", "-f", "{{json .State}}", id])).stdout) as { FinishedAt: string };
    expect(calls[0]!.exit).toEqual({ code: 137, signal: "SIGKILL", oomKilled: false, finishedAt });
    expect(calls[0]!.container).toMatchObject({ Id: id, State: { Running: false, ExitCode: 137 } });
  });

  it("reports a process that ignores SIGTERM, stopped with docker stop -t 1, as SIGKILL", async () => {
    expect((await docker(["run", "-d", "--name", name("stubborn"), "--network", "none", "bb", "sh", "-c", "trap '' TERM; while :; do sleep 1; done"])).code).toBe(0);
    const id = await idOf(name("stubborn"));
    expect((await docker(["stop", "-t", "1", name("stubborn")])).code).toBe(0);
    const calls = await settled(id, "onExit");
    expect(calls.map((c) => [c.exit!.code, c.exit!.signal])).toEqual([[137, "SIGKILL"]]);
  });

  it("reports an exit status of the process's own with no signal", async () => {
    expect((await docker(["run", "--name", name("three"), "--network", "none", "bb", "sh", "-c", "exit 3"])).code).toBe(3);
    const calls = await settled(await idOf(name("three")), "onExit");
    expect(calls.map((c) => ({ code: c.exit!.code, signal: c.exit!.signal, oomKilled: c.exit!.oomKilled }))).toEqual([{ code: 3, signal: undefined, oomKilled: false }]);
  });

  it("runs onExit after the postStart of the same start, for a process that ends at once", async () => {
    expect((await docker(["run", "--name", name("brief"), "--network", "none", "bb", "true"])).code).toBe(0);
    const id = await idOf(name("brief"));
    await settled(id, "onExit");
    expect(main.calls.filter((c) => c.container.Id === id).map((c) => c.hook)).toEqual(["postStart", "onExit"]);
  });

  it("reports a container removed at once (run --rm) once, with its name, labels and exit status", async () => {
    const run = await docker(["run", "--rm", "--name", name("gone"), "--label", "team=infra", "--network", "none", "bb", "sh", "-c", "exit 7"]);
    expect(run.code).toBe(7);
    const calls = await settledCalls(main.calls, "onExit", (c) => c.Name === `/${name("gone")}`);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.exit).toMatchObject({ code: 7, signal: undefined, oomKilled: false });
    // as the engine writes FinishedAt (Go's RFC3339Nano: trailing zeros of the nanoseconds dropped)
    expect(calls[0]!.exit!.finishedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{0,8}[1-9])?Z$/);
    // inspected before dockerd removed it, or described from the die event: the same fields either way
    expect(calls[0]!.container).toMatchObject({ Config: { Labels: { team: "infra" } } });
    expect(calls[0]!.container.Id).toMatch(/^[0-9a-f]{64}$/);
  });

  it("reports a container ended by the OOM killer with oomKilled true, where the machine has a memory controller", async (ctx) => {
    const reason = oomSkipReason();
    if (reason) ctx.skip(reason);
    const run = await docker(["run", "--name", name("oom"), "-m", "8m", "--memory-swap", "8m", "--network", "none", "bb", "sh", "-c", "x=0123456789abcdef; while :; do x=$x$x; done"]);
    expect(run.code).toBe(137);
    const calls = await settled(await idOf(name("oom")), "onExit");
    expect(calls.map((c) => c.exit!.oomKilled)).toEqual([true]);
    expect(calls[0]!.exit).toMatchObject({ code: 137, signal: "SIGKILL" });
  });

  it("reports once a container that exits while dockerd restarts, and one that exits after, and no exit twice", async () => {
    expect((await docker(["run", "-d", "--name", name("gap"), "--network", "none", "bb", "sleep", "300"])).code).toBe(0);
    const gap = await idOf(name("gap"));
    const pid = Number((await d.docker(["inspect", "-f", "{{.State.Pid}}", gap])).stdout.trim());
    const before = main.calls.filter((c) => c.hook === "onExit").length;
    await d.restart(async () => {
      process.kill(pid, "SIGKILL");
      await sleep(300);
    });
    const inGap = await settled(gap, "onExit");
    expect(inGap.map((c) => c.exit!.code)).toEqual([137]);
    // after the restart: the subscription is back
    expect((await docker(["run", "--name", name("after"), "--network", "none", "bb", "sh", "-c", "exit 4"])).code).toBe(4);
    expect((await settled(await idOf(name("after")), "onExit")).map((c) => c.exit!.code)).toEqual([4]);
    // a second restart with nothing exiting adds nothing, and no exit anywhere was reported twice
    await d.restart();
    expect((await docker(["run", "--name", name("after2"), "--network", "none", "bb", "true"])).code).toBe(0);
    await settled(await idOf(name("after2")), "onExit");
    const exits = main.calls.filter((c) => c.hook === "onExit");
    expect(exits.length).toBe(before + 3);
    const keys = exits.map((c) => `${c.container.Id} ${c.exit!.finishedAt}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(main.logs.some((line) => line.includes("lost the engine's event stream"))).toBe(true);
  }, 120_000);

  it("ends its subscription when closed: no onExit after close", async () => {
    const second = await startObserved("second.sock");
    expect((await docker(["run", "-d", "--name", name("late"), "--network", "none", "bb", "sleep", "300"], second)).code).toBe(0);
    const id = await idOf(name("late"));
    await settled(id, "postStart", 1, second);
    await second.proxy.close({ graceMs: 2000 });
    const before = second.calls.length;
    expect((await d.docker(["kill", id])).code).toBe(0);
    // the main proxy saw the exit; the closed one did not
    expect(await settled(id, "onExit")).toHaveLength(1);
    expect(second.calls.length).toBe(before);
  });
});
