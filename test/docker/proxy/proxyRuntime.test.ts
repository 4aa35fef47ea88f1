/**
 * The Docker API proxy and the OCI runtime wrapper together, on a real dockerd whose default runtime is the wrapper:
 * a start through the proxy runs preStart with dockerd's full inspect and leaves the hooks as a hand-off, which the
 * wrapper takes when dockerd creates the container; a start straight to dockerd's socket (or a restart by the engine)
 * has no hand-off, and the wrapper runs preStart itself. Either way the hooks run around Docker's network hook.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHost, createRegistry, type Host } from "hookplugins";
import { createDockerProxy, type DockerProxy } from "hookplugins/docker";
import { runCommand } from "../../support/engines/processes.js";
import { describeWithTools, toolPath } from "../../support/tools.js";
import { startDockerd, type Dockerd } from "../dockerd.js";
import { createProbePlugin } from "../../runtime/fixtures/probePlugin.js";
import { containerSeen, defaultProbes, probeHookScript, probeWrapper, readTrace, removeTempDirs, type ProbeWrapper } from "../../runtime/helpers.js";

let probes: ProbeWrapper;
let d: Dockerd;
let host: Host;
let proxy: DockerProxy;
let socket: string;
const logs: string[] = [];

async function viaProxy(args: readonly string[]): Promise<string> {
  const env = { PATH: process.env["PATH"], HOME: d.dir, DOCKER_CONFIG: join(d.dir, "cli"), DOCKER_HOST: `unix://${socket}` };
  const r = await runCommand(toolPath("docker"), args, env, 60_000);
  if (r.code !== 0) throw new Error(`docker ${args.join(" ")} through the proxy exited ${r.code}: ${r.stderr}`);
  return r.stdout.trim();
}

describeWithTools(["root", "dockerd", "docker", "runc", "busybox", "containerd"], "the Docker API proxy and the runtime wrapper together", () => {
  beforeAll(async () => {
    probes = await probeWrapper(toolPath("runc"), "hppr-");
    d = await startDockerd({ config: { runtimes: { hp: { path: probes.wrapper } }, "default-runtime": "hp" } });
    // the proxy's host runs the same two probe plugins the wrapper has compiled in
    const registry = createRegistry();
    for (const probe of defaultProbes) registry.registerContainerPlugin(createProbePlugin({ ...probe, trace: probes.trace, hook: probeHookScript }));
    host = createHost({ registry });
    socket = join(d.dir, "proxy.sock");
    proxy = await createDockerProxy({ host, listen: socket, upstream: `unix://${d.socketPath}`, handoffDir: probes.handoffs, log: (line) => logs.push(line) });
  }, 120_000);

  afterAll(async () => {
    await proxy?.close({ graceMs: 2000 });
    await host?.close();
    await d?.stop();
    await removeTempDirs();
  }, 120_000);

  it("a start through the proxy: preStart gets dockerd's full inspect, the wrapper takes the hand-off, the hooks run around Docker's network hook", async () => {
    const id = await viaProxy(["run", "-d", "--name", `handoff-${process.pid}`, "--network", "none", "bb", "sleep", "60"]);
    // dockerd's inspect (the proxy's side) names the image; a container object built from the OCI spec cannot
    expect(containerSeen(probes.trace, id)).toMatchObject({ Id: id, Name: `/handoff-${process.pid}`, Config: { Image: "bb" } });
    expect(readTrace(probes.trace, id).map((run) => [run.name, run.net])).toEqual([
      ["probe-early", "unregistered"],
      ["probe-late", "registered"],
    ]);
    expect(existsSync(probes.handoffs) ? readdirSync(probes.handoffs) : []).toEqual([]);
    expect(logs.filter((line) => line.includes("did not run"))).toEqual([]);
    await viaProxy(["rm", "-f", id]);
  });

  it("a start straight to dockerd's socket has no hand-off: the wrapper runs preStart itself, with the container from the spec", async () => {
    const created = await d.docker(["create", "--network", "none", "bb", "true"]);
    const id = created.stdout.trim();
    expect((await d.docker(["start", "-a", id], { timeoutMs: 60_000 })).code).toBe(0);
    expect(containerSeen(probes.trace, id)).toMatchObject({ Id: id, Config: { Image: "" } });
    expect(readTrace(probes.trace, id).map((run) => run.name)).toEqual(["probe-early", "probe-late"]);
    await d.docker(["rm", "-f", id]);
  });

  it("leaves no hand-off behind when the engine refuses the start", async () => {
    const id = await viaProxy(["create", "--network", "none", "bb", "/no/such/program"]);
    const env = { PATH: process.env["PATH"], HOME: d.dir, DOCKER_CONFIG: join(d.dir, "cli"), DOCKER_HOST: `unix://${socket}` };
    const start = await runCommand(toolPath("docker"), ["start", id], env, 60_000);
    expect(start.code).not.toBe(0);
    expect(existsSync(probes.handoffs) ? readdirSync(probes.handoffs) : []).toEqual([]);
    await d.docker(["rm", "-f", id]);
  });
});
