/**
 * postStart and onExit through the Docker API proxy in front of Podman 4.3's Docker-compatible service, driven by
 * the docker CLI: the same event subscription (Podman's compat `GET /events`) and inspects as with dockerd.
 */
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHost, createRegistry, type Host } from "hookplugins";
import { createDockerProxy, type DockerProxy } from "hookplugins/docker";
import { podmanTools, startPodmanService, type PodmanService } from "../../support/engines/podman.js";
import { runCommand, type RunResult } from "../../support/engines/processes.js";
import { describeWithTools, toolPath } from "../../support/tools.js";
import { recordingHost, settledCalls, type RecordedCall, type Recorder } from "./observerRecorder.js";

let podman: PodmanService;
let host: Host;
let proxy: DockerProxy;
let socket: string;
const recorder: Recorder = { calls: [] };
const name = (what: string): string => `${what}-${process.pid}`;

function viaProxy(args: readonly string[]): Promise<RunResult> {
  return runCommand(toolPath("docker"), args, { ...podman.env, DOCKER_HOST: `unix://${socket}` }, 60_000);
}

/** The calls of `hook` for container `n`, settled (see settledCalls). */
async function settled(n: string, hook: RecordedCall["hook"]): Promise<RecordedCall[]> {
  const id = (await podman.docker(["inspect", "-f", "{{.Id}}", n])).stdout.trim();
  return settledCalls(recorder.calls, hook, (c) => c.Id === id);
}

describeWithTools(podmanTools, "postStart and onExit through the Docker API proxy in front of Podman's Docker-compatible service", () => {
  beforeAll(async () => {
    podman = await startPodmanService();
    host = createHost({ registry: createRegistry(), timeoutMs: 5000 });
    socket = join(podman.dir, "proxy.sock");
    proxy = await createDockerProxy({ host: recordingHost(host, () => recorder), listen: socket, upstream: `unix://${podman.socketPath}`, handoffDir: join(podman.dir, "handoff"), log: () => {}, daemonHooks: false, observers: true });
  }, 120_000);

  afterAll(async () => {
    await proxy?.close({ graceMs: 2000 });
    await host?.close();
    await podman?.stop();
  }, 120_000);

  it("runs postStart once after docker run -d, with Podman's inspect of the running container", async () => {
    expect((await viaProxy(["run", "-d", "--name", name("started"), "bb", "sleep", "300"])).code).toBe(0);
    const started = await settled(name("started"), "postStart");
    expect(started).toHaveLength(1);
    expect(started[0]!.container).toMatchObject({ Name: `/${name("started")}`, State: { Running: true } });
  });

  it("reports a container killed with SIGKILL once: code 137, signal SIGKILL", async () => {
    expect((await viaProxy(["kill", "-s", "SIGKILL", name("started")])).code).toBe(0);
    const exits = await settled(name("started"), "onExit");
    expect(exits.map((c) => c.exit && { code: c.exit.code, signal: c.exit.signal, oomKilled: c.exit.oomKilled })).toEqual([{ code: 137, signal: "SIGKILL", oomKilled: false }]);
  });

  it("reports an exit status of the process's own once, with no signal", async () => {
    expect((await viaProxy(["run", "--name", name("three"), "bb", "sh", "-c", "exit 3"])).code).toBe(3);
    const exits = await settled(name("three"), "onExit");
    expect(exits.map((c) => [c.exit?.code, c.exit?.signal])).toEqual([[3, undefined]]);
  });
});
