/**
 * The Docker API proxy in front of Podman 4.3's Docker-compatible service, driven by the docker CLI (28.2, and
 * Debian's 20.10): envlimits on create as inspect shows it, the policy's refusal, exec, and
 * `docker run -it` on a pseudo-terminal through the hooked create and start.
 */
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHost, createRegistry, type Host } from "hookplugins";
import { createDockerProxy, type DockerProxy } from "hookplugins/docker";
import { envLimitsPlugin } from "../../../hookplugins/envlimits/index.js";
import { createPolicyPlugins } from "../../../hookplugins/policy/index.js";
import { podmanTools, startPodmanService, type PodmanService } from "../../support/engines/podman.js";
import { runCommand, type RunResult } from "../../support/engines/processes.js";
import { describeWithTools, requireTools, toolPath } from "../../support/tools.js";

let podman: PodmanService;
let host: Host;
let proxy: DockerProxy;
let socket: string;
const name = (what: string): string => `${what}-${process.pid}`;

/** A command with DOCKER_HOST at the proxy (the harness's environment otherwise: its config files). */
function viaProxy(file: string, args: readonly string[]): Promise<RunResult> {
  return runCommand(file, args, { ...podman.env, DOCKER_HOST: `unix://${socket}` }, 60_000);
}

describeWithTools([...podmanTools, "script"], "the Docker API proxy in front of Podman's Docker-compatible service", () => {
  beforeAll(async () => {
    podman = await startPodmanService();
    const plugins = createRegistry();
    plugins.registerContainerPlugin(envLimitsPlugin);
    plugins.registerContainerPlugin(createPolicyPlugins({ denyPrivileged: true }).container);
    host = createHost({ registry: plugins, timeoutMs: 5000 });
    socket = join(podman.dir, "proxy.sock");
    proxy = await createDockerProxy({ host, listen: socket, upstream: `unix://${podman.socketPath}`, handoffDir: join(podman.dir, "handoff"), log: () => {} });
  }, 120_000);

  afterAll(async () => {
    await proxy?.close({ graceMs: 2000 });
    await host?.close();
    await podman?.stop();
  }, 120_000);

  it("applies envlimits on create: podman's inspect through the proxy shows the memory limit", async () => {
    const created = await viaProxy(toolPath("docker"), ["create", "--name", name("limited"), "-e", "HOOKPLUGINS_MEMORY=64m", "bb", "sleep", "60"]);
    expect(created.stderr).toBe("");
    const inspect = await viaProxy(toolPath("docker"), ["inspect", "-f", "{{.HostConfig.Memory}}", name("limited")]);
    expect(inspect.stdout.trim()).toBe("67108864");
  });

  it("prints the policy plugin's refusal", async () => {
    const run = await viaProxy(toolPath("docker"), ["create", "--privileged", "bb", "true"]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('Error response from daemon: plugin "policy" failed in ContainerPlugin.preCreate: policy rule denyPrivileged');
  });

  it("runs docker exec, with and without -i, in a container started through the proxy", async () => {
    expect((await viaProxy(toolPath("docker"), ["start", name("limited")])).stderr).toBe("");
    expect((await viaProxy(toolPath("docker"), ["exec", name("limited"), "echo", "no stdin"])).stdout).toBe("no stdin\n");
    const interactive = await runCommand("/bin/sh", ["-c", 'echo piped | exec "$0" exec -i "$1" cat', toolPath("docker"), name("limited")], { ...podman.env, DOCKER_HOST: `unix://${socket}` }, 60_000);
    expect(interactive.stdout).toBe("piped\n");
  });

  /** `docker run -it` on a pseudo-terminal (script) by the docker CLI `cli`, through the proxy and straight to Podman. */
  async function runIt(cli: string): Promise<void> {
    const args = ["-qec", `${cli} run -it --rm bb sh -c "echo tty; exit 3"`, "/dev/null"];
    const proxied = await viaProxy(toolPath("script"), args);
    // Podman 4.3's Docker API reports exit code 0 for `run --rm` whatever the container's is: as it does directly
    const direct = await runCommand(toolPath("script"), args, { ...podman.env }, 60_000);
    expect({ code: proxied.code, output: proxied.stdout }).toEqual({ code: direct.code, output: "tty\r\n" });
  }

  it("runs docker run -it on a pseudo-terminal through the hooked create and start as directly", async () => {
    await runIt(toolPath("docker"));
  });

  it("runs docker run -it on a pseudo-terminal through the hooked create and start as directly with Debian's docker CLI 20.10 too", async (ctx) => {
    requireTools(ctx, "docker-20.10");
    await runIt(toolPath("docker-20.10"));
  });
});
