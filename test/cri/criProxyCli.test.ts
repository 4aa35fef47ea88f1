/**
 * `hookplugins cri-proxy` as a process (the CLI from source, `-C` a project with the shipped envlimits plugin): in
 * front of a real containerd 1.6 with its CRI plugin, driven by a CRI client (its ready line, its socket's mode,
 * Version, envlimits' memory limit on CreateContainer, SIGTERM); and its usage errors, which need no containerd.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot, untilOutput, useCliTest, type CliProcess } from "../docker/cliProcess.js";
import { startContainerd, containerdTools, type Containerd } from "../support/engines/containerd.js";
import { describeWithTools } from "../support/tools.js";
import { containerConfig, criClient, podConfig, type CriClient } from "./criClient.js";

const t = useCliTest("hpcrix-");

/** A project with the envlimits plugin. */
const project = (): Promise<string> => t.project({ plugins: [join(repoRoot, "hookplugins/envlimits")] });

describeWithTools(containerdTools, "hookplugins cri-proxy in front of containerd's CRI plugin", () => {
  let containerd: Containerd;
  let direct: CriClient;
  let podId: string;
  const pod = podConfig("clitest");
  const clients: CriClient[] = [];

  beforeAll(async () => {
    containerd = await startContainerd({ cri: true });
    direct = criClient(containerd.socketPath);
    podId = (await direct.runtime<{ pod_sandbox_id: string }>("RunPodSandbox", { config: pod })).pod_sandbox_id;
  }, 120_000);

  afterAll(async () => {
    for (const client of clients) client.close();
    direct?.close();
    await containerd?.stop();
  }, 60_000);

  /** Starts `hookplugins -C <project> cri-proxy` in front of containerd and waits for its ready line. */
  async function serve(): Promise<{ proc: CliProcess; socket: string; client: CriClient }> {
    const socket = join(t.dir, "cri.sock");
    const proc = t.start(["-C", await project(), "cri-proxy", "--listen", socket, "--upstream", `unix://${containerd.socketPath}`]);
    await untilOutput(proc, "hookplugins cri-proxy: serving CRI on");
    const client = criClient(socket);
    clients.push(client);
    return { proc, socket, client };
  }

  it("prints one ready line on stdout naming its socket, containerd's socket and the project's plugins", async () => {
    const { proc, socket } = await serve();
    expect(proc.stdout()).toBe(`hookplugins cri-proxy: serving CRI on unix://${socket}, relaying to unix://${containerd.socketPath} (plugins: envlimits); stop with SIGTERM or Ctrl-C\n`);
  }, 30_000);

  it("makes its socket mode 0600", async () => {
    const { socket } = await serve();
    expect(statSync(socket).mode & 0o777).toBe(0o600);
  }, 30_000);

  it("relays Version to containerd and back", async () => {
    const { client } = await serve();
    const version = await client.runtime<{ runtime_name: string; runtime_api_version: string }>("Version", {});
    expect(version).toMatchObject({ runtime_name: "containerd", runtime_api_version: "v1" });
  }, 30_000);

  it("gives a container whose env asks envlimits for 64 MiB that memory limit in its runtime spec", async () => {
    const { client } = await serve();
    const { container_id: id } = await client.runtime<{ container_id: string }>("CreateContainer", {
      pod_sandbox_id: podId,
      config: containerConfig("limited", containerd.image, { envs: [{ key: "HOOKPLUGINS_MEMORY", value: "64m" }] }),
      sandbox_config: pod,
    });
    const status = await direct.runtime<{ info: Record<string, string> }>("ContainerStatus", { container_id: id, verbose: true });
    const info = JSON.parse(status.info["info"]!) as { runtimeSpec: { linux: { resources: { memory?: { limit?: number } } } } };
    expect(info.runtimeSpec.linux.resources.memory?.limit).toBe(64 * 1024 * 1024);
  }, 60_000);

  it("exits 0 on SIGTERM and removes its socket", async () => {
    const { proc, socket } = await serve();
    proc.child.kill("SIGTERM");
    expect(await proc.exit).toBe(0);
    expect(proc.stdout()).toContain(`hookplugins cri-proxy: SIGTERM received: stopped serving unix://${socket}\n`);
    expect(existsSync(socket)).toBe(false);
  }, 30_000);
});

describe("hookplugins cri-proxy's usage errors", () => {
  const containerdSocket = "unix:///run/containerd/containerd.sock";
  const cases: ReadonlyArray<{ name: string; args: (dir: string) => string[]; message: string }> = [
    {
      name: "refuses to start without --listen and names an example socket",
      args: () => ["--upstream", containerdSocket],
      message: "missing --listen: give the socket the kubelet connects to, e.g. --listen /run/hookplugins/cri.sock",
    },
    {
      name: "refuses to start without --upstream and names containerd's socket",
      args: (dir) => ["--listen", join(dir, "cri.sock")],
      message: `missing --upstream: give containerd's socket, e.g. --upstream ${containerdSocket}`,
    },
    {
      name: "refuses a TCP --upstream: CRI's runtime is a UNIX socket",
      args: (dir) => ["--listen", join(dir, "cri.sock"), "--upstream", "tcp://127.0.0.1:10010"],
      message: `--upstream: the runtime address "tcp://127.0.0.1:10010" is not a UNIX socket; give ${containerdSocket} or an absolute path`,
    },
    {
      name: "refuses a relative --upstream path",
      args: (dir) => ["--listen", join(dir, "cri.sock"), "--upstream", "run/containerd/containerd.sock"],
      message: `--upstream: the runtime address "run/containerd/containerd.sock" is not a UNIX socket; give ${containerdSocket} or an absolute path`,
    },
    {
      name: "refuses a TCP --listen: the relay listens on a UNIX socket only",
      args: () => ["--listen", "tcp://127.0.0.1:10010", "--upstream", containerdSocket],
      message: "--listen tcp://127.0.0.1:10010: the CRI relay listens on a UNIX socket only; give a socket path, e.g. --listen /run/hookplugins/cri.sock",
    },
    {
      name: "refuses a --max-message-bytes below the kubelet's 16 MiB",
      args: (dir) => ["--listen", join(dir, "cri.sock"), "--upstream", containerdSocket, "--max-message-bytes", "4194304"],
      message: '--max-message-bytes must be a whole number of bytes >= 16777216 (the kubelet\'s own limit), got "4194304"',
    },
    {
      name: "refuses a --timeout that is not a whole number of milliseconds",
      args: (dir) => ["--listen", join(dir, "cri.sock"), "--upstream", containerdSocket, "--timeout", "1.5"],
      message: '--timeout must be a whole number of milliseconds >= 1, got "1.5"',
    },
  ];

  for (const { name, args, message } of cases) {
    it(`${name}, exiting 2 with a hint to its --help`, async () => {
      const proc = t.start(["-C", await project(), "cri-proxy", ...args(t.dir)]);
      expect(await proc.exit).toBe(2);
      expect(proc.stderr()).toBe(`hookplugins: error: ${message}\nhookplugins: run \`hookplugins cri-proxy --help\` for usage\n`);
      expect(proc.stdout()).toBe("");
      expect(existsSync(join(t.dir, "cri.sock"))).toBe(false);
    });
  }
});
