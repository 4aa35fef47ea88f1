/**
 * Registered ContainerPlugins observing a real dockerd 20.10 through the Docker API proxy, driven by the docker CLI:
 * the proxy finds the observers itself (no `observers` option), runs every plugin in priority order past one that
 * fails, gives each the engine's inspect and the exit, and goes on delivering exits after a plugin that hangs past
 * its time limit.
 */
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHost, createRegistry, type ContainerExit, type ContainerJSON, type Host, type PluginRegistry } from "hookplugins";
import { createDockerProxy, type DockerProxy } from "hookplugins/docker";
import { runCommand, type RunResult } from "../../support/engines/processes.js";
import { describeWithTools } from "../../support/tools.js";
import { findOnPath, startDockerd, type Dockerd } from "../dockerd.js";
import { settledCalls, type RecordedCall } from "./observerRecorder.js";

let d: Dockerd;
let registry: PluginRegistry;
let host: Host;
let proxy: DockerProxy;
let socket: string;
const logs: string[] = [];
/** What each plugin saw, by plugin name. */
const seen: Record<string, RecordedCall[]> = { failing: [], recorder: [], hanging: [] };
/** The order in which the plugins ran, as "plugin hook". */
const order: string[] = [];
const name = (what: string): string => `${what}-${process.pid}`;

function docker(args: readonly string[]): Promise<RunResult> {
  const env = { PATH: process.env["PATH"], HOME: d.dir, DOCKER_CONFIG: join(d.dir, "cli"), DOCKER_HOST: `unix://${socket}` };
  return runCommand(findOnPath("docker")!, args, env, 60_000);
}

async function idOf(n: string): Promise<string> {
  return (await d.docker(["inspect", "-f", "{{.Id}}", n])).stdout.trim();
}

function settled(plugin: string, id: string, hook: RecordedCall["hook"]): Promise<RecordedCall[]> {
  return settledCalls(seen[plugin]!, hook, (c) => c.Id === id);
}

describeWithTools(["root", "dockerd", "docker", "runc", "busybox"], "registered observer plugins through the Docker API proxy in front of a real dockerd", () => {
  beforeAll(async () => {
    d = await startDockerd();
    registry = createRegistry();
    const record = (plugin: string) => ({
      postStart: (_ctx: unknown, container: ContainerJSON) => {
        order.push(`${plugin} postStart`);
        seen[plugin]!.push({ hook: "postStart", container });
      },
      onExit: (_ctx: unknown, container: ContainerJSON, exit: ContainerExit) => {
        order.push(`${plugin} onExit`);
        seen[plugin]!.push({ hook: "onExit", container, exit });
      },
    });
    registry.registerContainerPlugin({
      name: "failing",
      priority: 30,
      postStart: (ctx, container) => {
        record("failing").postStart(ctx, container as ContainerJSON);
        throw new Error("cannot reach the inventory service");
      },
    });
    registry.registerContainerPlugin({
      name: "hanging",
      priority: 20,
      timeoutMs: 300,
      onExit: (ctx, container, exit) => {
        record("hanging").onExit(ctx, container as ContainerJSON, exit);
        return new Promise<void>(() => {}); // never settles: the time limit ends it
      },
    });
    registry.registerContainerPlugin({ name: "recorder", priority: 10, ...record("recorder") });
    host = createHost({ registry, timeoutMs: 5000 });
    socket = join(d.dir, "proxy.sock");
    proxy = await createDockerProxy({ host, listen: socket, upstream: `unix://${d.socketPath}`, handoffDir: join(d.dir, "handoff"), log: (line) => logs.push(line), daemonHooks: false });
  }, 120_000);

  afterAll(async () => {
    await proxy?.close({ graceMs: 2000 });
    await host?.close();
    await d?.stop();
  }, 120_000);

  it("runs every postStart plugin in priority order after docker run, past one that fails, and logs the failure naming it", async () => {
    expect((await docker(["run", "-d", "--name", name("up"), "--network", "none", "bb", "sleep", "300"])).code).toBe(0);
    const id = await idOf(name("up"));
    const calls = await settled("recorder", id, "postStart");
    expect(calls).toHaveLength(1);
    expect(calls[0]!.container).toMatchObject({ Id: id, Name: `/${name("up")}`, State: { Running: true } });
    expect(await settled("failing", id, "postStart")).toHaveLength(1);
    expect(order.filter((o) => o.endsWith("postStart")).slice(0, 2)).toEqual(["failing postStart", "recorder postStart"]);
    expect(logs.join("\n")).toMatch(new RegExp(`container ${id.slice(0, 12)}: plugin "failing" failed in ContainerPlugin.postStart: cannot reach the inventory service`));
    expect((await d.docker(["inspect", "-f", "{{.State.Running}}", id])).stdout.trim()).toBe("true");
  });

  it("gives each onExit plugin the container's own exit status once, with the engine's inspect of the exited container", async () => {
    expect((await docker(["run", "--name", name("seven"), "--network", "none", "bb", "sh", "-c", "exit 7"])).code).toBe(7);
    const id = await idOf(name("seven"));
    const calls = await settled("recorder", id, "onExit");
    expect(calls.map((c) => ({ code: c.exit!.code, signal: c.exit!.signal, oomKilled: c.exit!.oomKilled }))).toEqual([{ code: 7, signal: undefined, oomKilled: false }]);
    expect(calls[0]!.container).toMatchObject({ Id: id, State: { Running: false, ExitCode: 7 } });
  });

  it("reports a plugin that hangs in onExit past its time limit, and still delivers every later exit to the others", async () => {
    const ids: string[] = [];
    for (const n of ["late-1", "late-2", "late-3"]) {
      expect((await docker(["run", "--name", name(n), "--network", "none", "bb", "sh", "-c", "exit 1"])).code).toBe(1);
      ids.push(await idOf(name(n)));
    }
    for (const id of ids) {
      expect(await settled("recorder", id, "onExit")).toHaveLength(1);
      expect(await settled("hanging", id, "onExit")).toHaveLength(1);
      expect(logs.join("\n")).toMatch(new RegExp(`container ${id.slice(0, 12)}: plugin "hanging" timed out in ContainerPlugin.onExit after 300 ms`));
    }
  });
});
