/**
 * The CRI relay in front of containerd 1.6's real CRI plugin and runc: CreateContainer through the plugins (envlimits'
 * memory limit in the runtime spec and the cgroup, a policy refusal with its message, a CriPlugin on CRI's own
 * config), untouched fields reaching containerd unchanged, runtime.v1alpha2, messages above 4 MiB, a deadline that passes
 * while plugins run, requests above the relay's limit, and a plugin change the mapping cannot carry.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import type { ContainerPlugin, CriRelayPlugin } from "hookplugins";
import { frameMessage } from "../../src/cri/grpcWire.js";
import { encodeMessage } from "../../src/cri/protoCodec.js";
import { criSchema } from "../../src/cri/criSchema.generated.js";
import { containerdTools, type Containerd } from "../support/engines/containerd.js";
import { describeWithTools } from "../support/tools.js";
import { containerConfig, criClient, podConfig, type CallError, type CriClient } from "./criClient.js";
import { http2Call } from "./rawCalls.js";
import { type RelayFixture } from "./relayFixture.js";
import { startCriRig, type CriRig } from "./criRig.js";

interface VerboseInfo {
  config: { envs?: { key: string; value: string }[]; annotations?: Record<string, string>; [k: string]: unknown };
  runtimeSpec: { process: { env: string[] }; linux: { resources: { memory?: { limit?: number } } } };
}

describeWithTools(containerdTools, "hookplugins cri-proxy in front of containerd's CRI plugin: CreateContainer", () => {
  let rig: CriRig | undefined;
  let containerd: Containerd;
  let relay: RelayFixture;
  let viaRelay: CriClient;
  let direct: CriClient;
  let podId: string;
  const pod = podConfig("createtest");

  beforeAll(async () => {
    ({ containerd, relay, viaRelay, direct } = rig = await startCriRig({ denyPrivileged: true }));
    podId = (await viaRelay.runtime<{ pod_sandbox_id: string }>("RunPodSandbox", { config: pod })).pod_sandbox_id;
  }, 120_000);

  afterAll(async () => {
    await rig?.stop();
  }, 60_000);

  const create = (client: CriClient, name: string, extra: Record<string, unknown> = {}): Promise<string> =>
    client.runtime<{ container_id: string }>("CreateContainer", { pod_sandbox_id: podId, config: containerConfig(name, containerd.image, extra), sandbox_config: pod }).then((r) => r.container_id);
  const verbose = async (id: string): Promise<VerboseInfo> => {
    const status = await direct.runtime<{ info: Record<string, string> }>("ContainerStatus", { container_id: id, verbose: true });
    return JSON.parse(status.info["info"]!) as VerboseInfo;
  };

  it("gives a container whose env asks envlimits for 64 MiB that memory limit, in its runtime spec and its cgroup", async () => {
    const id = await create(viaRelay, "limited", { envs: [{ key: "HOOKPLUGINS_MEMORY", value: "64m" }, { key: "KEEP", value: "1" }] });
    const info = await verbose(id);
    expect(info.runtimeSpec.linux.resources.memory?.limit).toBe(64 * 1024 * 1024);
    expect(info.runtimeSpec.process.env).toContain("KEEP=1");
    expect(info.runtimeSpec.process.env.some((e) => e.startsWith("HOOKPLUGINS_MEMORY"))).toBe(false);
    await viaRelay.runtime("StartContainer", { container_id: id });
    const cgroup = await viaRelay.runtime<{ stdout: Buffer; exit_code: number }>("ExecSync", {
      container_id: id,
      cmd: ["sh", "-c", "cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes"],
      timeout: 10,
    });
    expect(cgroup.exit_code).toBe(0);
    expect(Buffer.from(cgroup.stdout).toString().trim()).toBe(String(64 * 1024 * 1024));
  }, 60_000);

  it("refuses a privileged container with policy's message naming the plugin, the hook and the fix, and containerd never sees it", async () => {
    const error = (await create(viaRelay, "privileged", { linux: { security_context: { privileged: true } } }).catch((e: unknown) => e)) as CallError;
    expect(error.code).toBe(9); // FAILED_PRECONDITION
    expect(error.details).toBe(
      'plugin "policy" failed in ContainerPlugin.preCreate: policy rule denyPrivileged: privileged containers are not allowed; run it without --privileged (HostConfig.Privileged) [CRI: HostConfig.Privileged is linux.security_context.privileged]',
    );
    const listed = await direct.runtime<{ containers: { metadata: { name: string } }[] }>("ListContainers", {});
    expect(listed.containers.map((c) => c.metadata.name)).not.toContain("privileged");
  }, 30_000);

  it("logs each refusal for the node's operator, with the method, the status and the plugin's message", async () => {
    await create(viaRelay, "privileged-logged", { linux: { security_context: { privileged: true } } }).catch(() => undefined);
    expect(relay.logged).toContainEqual(expect.stringMatching(/^hookplugins cri-proxy: \/runtime\.v1\.RuntimeService\/CreateContainer: answered FAILED_PRECONDITION: plugin "policy" failed in ContainerPlugin\.preCreate: policy rule denyPrivileged/));
  }, 30_000);

  it("runs a CriPlugin on CRI's own config and the request's sandbox, and its changes reach containerd", async () => {
    const seen: { sandboxId?: string; podName?: string; image?: string } = {};
    const plugin: CriRelayPlugin = {
      name: "annotator",
      preCreateContainer(_ctx, config, sandbox) {
        seen.sandboxId = sandbox.ID;
        seen.podName = sandbox.Config.metadata?.name;
        seen.image = config.image?.image;
        config.annotations = { ...config.annotations, "example.com/annotated": "yes" };
        config.envs = [...(config.envs ?? []), { key: "ADDED_BY", value: "annotator" }];
      },
    };
    const unregister = relay.registry.registerCriPlugin(plugin as never);
    try {
      const id = await create(viaRelay, "annotated");
      expect(seen).toEqual({ sandboxId: podId, podName: "createtest", image: containerd.image });
      const info = await verbose(id);
      expect(info.config.annotations?.["example.com/annotated"]).toBe("yes");
      expect(info.runtimeSpec.process.env).toContain("ADDED_BY=annotator");
    } finally {
      unregister();
    }
  }, 30_000);

  it("passes every field the plugins did not touch to containerd as it came", async () => {
    const extra = {
      args: ["a", "b"],
      working_dir: "/tmp",
      labels: { team: "x" },
      annotations: { note: "kept" },
      envs: [{ key: "A", value: "1" }, { key: "HOOKPLUGINS_CPU_SHARES", value: "512" }, { key: "B", value: "2" }],
      mounts: [{ container_path: "/data", host_path: containerd.dir, readonly: true }],
      linux: { resources: { cpu_period: 100000, cpu_quota: 50000, oom_score_adj: 5 }, security_context: { run_as_user: { value: 0 } } },
    };
    const viaId = await create(viaRelay, "untouched-relay", extra);
    const directId = await create(direct, "untouched-direct", extra);
    const [via, straight] = [(await verbose(viaId)).config, (await verbose(directId)).config];
    // the only differences: the name, envlimits' env entry and the cpu shares it became
    const strip = (c: VerboseInfo["config"]): unknown => ({ ...c, metadata: undefined, envs: undefined, linux: { ...(c["linux"] as object), resources: { ...((c["linux"] as { resources: object }).resources), cpu_shares: undefined } } });
    expect(strip(via)).toEqual(strip(straight));
    expect(via.envs).toEqual([{ key: "A", value: "1" }, { key: "B", value: "2" }]);
    expect((via["linux"] as { resources: { cpu_shares: number } }).resources.cpu_shares).toBe(512);
  }, 30_000);

  it("runs the plugins on runtime.v1alpha2's CreateContainer too, which kubelets before 1.26 call", async () => {
    const old = criClient(relay.socketPath, "v1alpha2");
    try {
      const version = await old.runtime<{ runtime_api_version: string }>("Version", {});
      expect(version.runtime_api_version).toBe("v1alpha2");
      const error = (await old
        .runtime("CreateContainer", { pod_sandbox_id: podId, config: containerConfig("old-privileged", containerd.image, { linux: { security_context: { privileged: true } } }), sandbox_config: pod })
        .catch((e: unknown) => e)) as CallError;
      expect(error.details).toMatch(/^plugin "policy" failed in ContainerPlugin.preCreate: policy rule denyPrivileged/);
    } finally {
      old.close();
    }
  }, 30_000);

  it("relays messages larger than grpc's 4 MiB default both ways (a 6 MiB annotation in and out)", async () => {
    const big = "x".repeat(6 * 1024 * 1024);
    const id = await create(viaRelay, "big", { annotations: { big } });
    const status = await viaRelay.runtime<{ info: Record<string, string> }>("ContainerStatus", { container_id: id, verbose: true });
    expect((JSON.parse(status.info["info"]!) as VerboseInfo).config.annotations?.["big"]).toHaveLength(big.length);
  }, 30_000);
  const names = async (): Promise<string[]> =>
    (await direct.runtime<{ containers: { metadata: { name: string } }[] }>("ListContainers", {})).containers.map((c) => c.metadata.name);
  const createRequest = (name: string, extra: Record<string, unknown> = {}): Uint8Array =>
    encodeMessage(criSchema, "CreateContainerRequest", { pod_sandbox_id: podId, config: containerConfig(name, containerd.image, extra), sandbox_config: pod });

  it("answers DEADLINE_EXCEEDED when the caller's deadline passes while a plugin runs, and never forwards the create", async () => {
    const unregister = relay.registry.registerContainerPlugin({ name: "slow", preCreate: () => new Promise<void>((resolve) => setTimeout(resolve, 1_500)) });
    try {
      const started = Date.now();
      // no gRPC library on the caller's side: only the relay can end the call at its deadline
      const reply = await http2Call(relay.socketPath, "/runtime.v1.RuntimeService/CreateContainer", frameMessage(createRequest("late")), { "grpc-timeout": "400m" });
      expect(reply.status).toBe("4");
      expect(reply.message).toMatch(/deadline/);
      expect(Date.now() - started).toBeLessThan(1_400);
      await new Promise((resolve) => setTimeout(resolve, 1_500)); // the plugin has finished by now
      expect(await names()).not.toContain("late");
    } finally {
      unregister();
    }
  }, 30_000);

  it("stops at a caller's cancellation while a plugin runs, and never forwards the create", async () => {
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const unregister = relay.registry.registerContainerPlugin({
      name: "slow",
      preCreate: () => {
        started();
        return new Promise<void>((resolve) => setTimeout(resolve, 1_000));
      },
    });
    try {
      const controller = new AbortController();
      const creating = viaRelay.runtime("CreateContainer", { pod_sandbox_id: podId, config: containerConfig("cancelled", containerd.image), sandbox_config: pod }, { signal: controller.signal }).catch((e: unknown) => e);
      await running;
      controller.abort();
      expect(((await creating) as CallError).code).toBe(1); // CANCELLED
      await new Promise((resolve) => setTimeout(resolve, 1_500)); // the plugin has finished by now
      expect(await names()).not.toContain("cancelled");
      expect(relay.logged).toContainEqual(expect.stringMatching(/CreateContainer: answered CANCELLED/));
    } finally {
      unregister();
    }
  }, 30_000);

  it("refuses a request above the relay's 16 MiB limit with RESOURCE_EXHAUSTED, naming the limit and the option", async () => {
    const reply = await http2Call(relay.socketPath, "/runtime.v1.RuntimeService/CreateContainer", frameMessage(createRequest("huge", { annotations: { big: "x".repeat(17 * 1024 * 1024) } })));
    expect(reply.status).toBe("8");
    expect(reply.message).toMatch(/larger than 16777216 bytes.*maxMessageBytes/);
    expect(await names()).not.toContain("huge");
  }, 30_000);

  it("refuses a Docker-style change that has no CRI field, naming the plugin, the field and the fix, and forwards nothing", async () => {
    const networker: ContainerPlugin = {
      name: "networker",
      preCreate(_ctx, config) {
        config.HostConfig = { ...config.HostConfig, NetworkMode: "none" };
      },
    };
    const unregister = relay.registry.registerContainerPlugin(networker);
    try {
      const error = (await create(viaRelay, "unmapped").catch((e: unknown) => e)) as CallError;
      expect(error.code).toBe(9);
      expect(error.details).toMatch(/^plugin "networker" failed in ContainerPlugin.preCreate: it changed HostConfig.NetworkMode, which the CRI relay cannot pass to the runtime .*; set it in the pod spec instead/);
      expect(await names()).not.toContain("unmapped");
    } finally {
      unregister();
    }
  }, 30_000);
});
