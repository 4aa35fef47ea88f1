/**
 * The CRI ↔ Docker-style mapping the relay runs ContainerPlugins through (src/cri/dockerMapping.ts) and the errors
 * and statuses a failed interceptor answers with (src/cri/errors.ts). Plain functions: no runtime needed.
 */
import { PluginAbortedError, PluginHookError, PluginTimeoutError, type ContainerCreateConfig, type CriContainerConfig, type CriMount } from "hookplugins";
import { applyDockerChanges, bindOf, criDockerMapping, CriMappingError, criStatusOf, CriStatusError, GrpcStatus, mountOf, toDockerConfig, withCriFieldNames } from "hookplugins/cri";
import { describe, expect, it } from "vitest";

const mib = 1024 * 1024;

/** A CRI config with every mapped field set, and CRI fields the mapping does not carry. */
function fullCri(): CriContainerConfig {
  return {
    metadata: { name: "web", attempt: 1 },
    image: { image: "docker.io/library/nginx:1.25", annotations: { "io.kubernetes.cri.image-name": "nginx" } },
    command: ["nginx"],
    args: ["-g", "daemon off;"],
    envs: [
      { key: "PATH", value: "/usr/bin" },
      { key: "EQ", value: "a=b" },
      { key: "EMPTY", value: "" },
    ],
    mounts: [
      { container_path: "/data", host_path: "/var/lib/data", readonly: true, selinux_relabel: true, propagation: 2 },
      { container_path: "/logs", host_path: "/var/log/pod", propagation: 1 },
      { container_path: "/etc/hosts", host_path: "/var/lib/kubelet/pods/uid/etc-hosts" },
    ],
    labels: { app: "web" },
    annotations: { "kubernetes.io/config.seen": "now" },
    linux: {
      resources: {
        cpu_period: 100_000,
        cpu_quota: 50_000,
        cpu_shares: 512,
        memory_limit_in_bytes: 64 * mib,
        memory_swap_limit_in_bytes: 128 * mib,
        oom_score_adj: -997,
        cpuset_cpus: "0-1",
        cpuset_mems: "0",
        hugepage_limits: [{ page_size: "2MB", limit: 0 }],
        unified: { "memory.high": "max" },
      },
      security_context: { privileged: false, readonly_rootfs: true, capabilities: { add_capabilities: ["NET_ADMIN"] }, run_as_user: { value: 1000 } },
    },
  };
}

/** The Docker view of `cri`, a copy a plugin changes, and the unmapped changes applyDockerChanges returns after `change`. */
function run(cri: CriContainerConfig, change: (config: ContainerCreateConfig) => void): ReturnType<typeof applyDockerChanges> {
  const before = toDockerConfig(cri);
  const after = structuredClone(before);
  change(after);
  return applyDockerChanges(cri, before, after);
}

describe("toDockerConfig", () => {
  it("maps a full CRI config to the Docker-style fields, and only those", () => {
    expect(toDockerConfig(fullCri())).toEqual({
      Image: "docker.io/library/nginx:1.25",
      Env: ["PATH=/usr/bin", "EQ=a=b", "EMPTY="],
      Labels: { app: "web" },
      HostConfig: {
        Privileged: false,
        Binds: ["/var/lib/data:/data:ro,Z,rshared", "/var/log/pod:/logs:rslave", "/var/lib/kubelet/pods/uid/etc-hosts:/etc/hosts"],
        Memory: 64 * mib,
        MemorySwap: 128 * mib,
        CpuShares: 512,
        CpuQuota: 50_000,
        CpuPeriod: 100_000,
        CpusetCpus: "0-1",
        CpusetMems: "0",
      },
    });
  });

  it("gives an empty CRI config the mapped fields' defaults (0, empty strings, false, empty lists)", () => {
    expect(toDockerConfig({})).toEqual({
      Image: "",
      Env: [],
      Labels: {},
      HostConfig: { Privileged: false, Binds: [], Memory: 0, MemorySwap: 0, CpuShares: 0, CpuQuota: 0, CpuPeriod: 0, CpusetCpus: "", CpusetMems: "" },
    });
  });

  it("copies the labels, so that a plugin changing the Docker view's labels does not change CRI's", () => {
    const cri = fullCri();
    toDockerConfig(cri).Labels!["added"] = "x";
    expect(cri.labels).toEqual({ app: "web" });
  });

  it("covers exactly the fields criDockerMapping lists", () => {
    const pointers = (value: unknown, prefix = ""): string[] =>
      typeof value === "object" && value !== null && !Array.isArray(value) && prefix !== "/Labels"
        ? Object.entries(value).flatMap(([k, v]) => pointers(v, `${prefix}/${k}`))
        : [prefix];
    expect(pointers(toDockerConfig(fullCri())).sort()).toEqual(criDockerMapping.map((m) => m.docker).sort());
  });
});

describe("applyDockerChanges, field by field", () => {
  it("Env: sets envs, splitting at the first '=' and taking an entry without '=' as an empty value", () => {
    const cri = fullCri();
    expect(run(cri, (c) => (c.Env = ["A=1", "URL=http://x?a=b", "BARE"]))).toEqual([]);
    expect(cri.envs).toEqual([
      { key: "A", value: "1" },
      { key: "URL", value: "http://x?a=b" },
      { key: "BARE", value: "" },
    ]);
  });

  it("Labels: sets labels (a copy of the plugin's map)", () => {
    const cri = fullCri();
    expect(run(cri, (c) => (c.Labels = { team: "a" }))).toEqual([]);
    expect(cri.labels).toEqual({ team: "a" });
  });

  it("Image: sets image.image and keeps the image's annotations", () => {
    const cri = fullCri();
    expect(run(cri, (c) => (c.Image = "registry.local/nginx:1.25"))).toEqual([]);
    expect(cri.image).toEqual({ image: "registry.local/nginx:1.25", annotations: { "io.kubernetes.cri.image-name": "nginx" } });
  });

  it.each([
    ["Memory", "memory_limit_in_bytes", 256 * mib],
    ["MemorySwap", "memory_swap_limit_in_bytes", -1],
    ["CpuShares", "cpu_shares", 2048],
    ["CpuQuota", "cpu_quota", 25_000],
    ["CpuPeriod", "cpu_period", 50_000],
    ["CpusetCpus", "cpuset_cpus", "2-3"],
    ["CpusetMems", "cpuset_mems", "1"],
  ] as const)("HostConfig.%s: sets linux.resources.%s and nothing else", (docker, cri, value) => {
    const config = fullCri();
    expect(run(config, (c) => ((c.HostConfig as Record<string, unknown>)[docker] = value))).toEqual([]);
    expect(config.linux!.resources).toEqual({ ...fullCri().linux!.resources, [cri]: value });
  });

  it("HostConfig.Memory on a config without linux: creates linux.resources", () => {
    const cri: CriContainerConfig = { image: { image: "i" } };
    expect(run(cri, (c) => (c.HostConfig!.Memory = 64 * mib))).toEqual([]);
    expect(cri.linux).toEqual({ resources: { memory_limit_in_bytes: 64 * mib } });
  });

  it("HostConfig.Privileged: sets linux.security_context.privileged and keeps the rest of the security context", () => {
    const cri = fullCri();
    expect(run(cri, (c) => (c.HostConfig!.Privileged = true))).toEqual([]);
    expect(cri.linux!.security_context).toEqual({ ...fullCri().linux!.security_context, privileged: true });
  });

  it("HostConfig.Binds: a new bind becomes a mount with readonly, selinux_relabel and propagation from its options", () => {
    const cri = fullCri();
    expect(run(cri, (c) => c.HostConfig!.Binds!.push("/srv/cache:/cache:ro,z,rslave", "/srv/rw:/rw:rw,rprivate"))).toEqual([]);
    expect(cri.mounts!.slice(3)).toEqual([
      { host_path: "/srv/cache", container_path: "/cache", readonly: true, selinux_relabel: true, propagation: 1 },
      { host_path: "/srv/rw", container_path: "/rw", readonly: false, propagation: 0 },
    ]);
  });

  it("HostConfig.Binds: a removed bind removes its mount", () => {
    const cri = fullCri();
    expect(run(cri, (c) => c.HostConfig!.Binds!.splice(1, 1))).toEqual([]);
    expect(cri.mounts!.map((m) => m.container_path)).toEqual(["/data", "/etc/hosts"]);
  });

  it("HostConfig.Binds: a bind changed to read-only becomes a read-only mount", () => {
    const cri = fullCri();
    expect(run(cri, (c) => (c.HostConfig!.Binds![1] = "/var/log/pod:/logs:ro,rslave"))).toEqual([]);
    expect(cri.mounts![1]).toEqual({ host_path: "/var/log/pod", container_path: "/logs", readonly: true, propagation: 1 });
  });

  it("a plugin that changes nothing changes nothing in the CRI config", () => {
    const cri = fullCri();
    expect(run(cri, () => undefined)).toEqual([]);
    expect(cri).toEqual(fullCri());
  });
});

describe("applyDockerChanges keeps what the plugins did not change", () => {
  it("keeps each mount object, unmapped fields and explicit defaults included, when the binds are unchanged", () => {
    const mount = { container_path: "/data", host_path: "/var/lib/data", readonly: false, propagation: 0, selinux_relabel: false, future_field: "kept" } as CriMount;
    const cri: CriContainerConfig = { mounts: [mount] };
    expect(run(cri, (c) => (c.HostConfig!.Memory = 1))).toEqual([]);
    expect(cri.mounts![0]).toBe(mount);
  });

  it("keeps the mount objects of the binds a plugin kept when it adds or removes another", () => {
    const kept = { container_path: "/data", host_path: "/var/lib/data", readonly: false, future_field: "kept" } as CriMount;
    const cri: CriContainerConfig = { mounts: [{ container_path: "/gone", host_path: "/gone" }, kept] };
    expect(run(cri, (c) => (c.HostConfig!.Binds = ["/var/lib/data:/data", "/new:/new"]))).toEqual([]);
    expect(cri.mounts![0]).toBe(kept);
    expect(cri.mounts![1]).toEqual({ host_path: "/new", container_path: "/new" });
  });

  it("keeps mounts whose bind string cannot be parsed back (a ':' in the host path, an unknown propagation) when a plugin changes another field", () => {
    const colon = { container_path: "/data", host_path: "/mnt/a:b" };
    const future = { container_path: "/x", host_path: "/x", propagation: 3 };
    const cri: CriContainerConfig = { mounts: [colon, future], envs: [] };
    expect(run(cri, (c) => (c.Env = ["A=1"]))).toEqual([]);
    expect(cri.mounts).toEqual([colon, future]);
    expect(run(cri, () => undefined)).toEqual([]);
  });

  it("keeps the envs object when only a resource changed, and the other resources when one changed", () => {
    const cri = fullCri();
    const envs = cri.envs;
    const hugepages = cri.linux!.resources!.hugepage_limits;
    expect(run(cri, (c) => (c.HostConfig!.Memory = 1))).toEqual([]);
    expect(cri.envs).toBe(envs);
    expect(cri.linux!.resources!.hugepage_limits).toBe(hugepages);
    expect(cri.linux!.resources!.unified).toEqual({ "memory.high": "max" });
    expect(cri.linux!.resources!.oom_score_adj).toBe(-997);
  });

  it("keeps the fields the mapping does not carry (command, args, annotations, metadata)", () => {
    const cri = fullCri();
    run(cri, (c) => {
      c.Env = [];
      c.Labels = {};
      c.HostConfig!.Binds = [];
      c.HostConfig!.Privileged = true;
    });
    expect(cri).toMatchObject({ metadata: fullCri().metadata, command: ["nginx"], args: ["-g", "daemon off;"], annotations: fullCri().annotations });
  });
});

describe("64-bit values beyond Number.MAX_SAFE_INTEGER", () => {
  const huge = 2n ** 60n + 1n;
  it("show as numbers in the Docker-style view", () => {
    expect(toDockerConfig({ linux: { resources: { memory_limit_in_bytes: huge } } }).HostConfig?.Memory).toBe(Number(huge));
  });

  it("reach the runtime exact when no plugin changes them", () => {
    const cri: CriContainerConfig = { linux: { resources: { memory_limit_in_bytes: huge } } };
    const before = toDockerConfig(cri);
    const after = toDockerConfig(cri);
    after.Env = ["A=1"];
    expect(applyDockerChanges(cri, before, after)).toEqual([]);
    expect(cri.linux?.resources?.memory_limit_in_bytes).toBe(huge);
  });
});

describe("applyDockerChanges: a mapped field a plugin removed", () => {
  it.each([
    ["HostConfig.Memory", (c: ContainerCreateConfig) => delete c.HostConfig!.Memory],
    ["HostConfig.CpusetCpus", (c: ContainerCreateConfig) => delete c.HostConfig!.CpusetCpus],
    ["HostConfig.Privileged", (c: ContainerCreateConfig) => delete c.HostConfig!.Privileged],
    ["HostConfig.Binds", (c: ContainerCreateConfig) => delete c.HostConfig!.Binds],
    ["Env", (c: ContainerCreateConfig) => delete c.Env],
    ["Labels", (c: ContainerCreateConfig) => delete c.Labels],
    ["HostConfig.Memory set to null", (c: ContainerCreateConfig) => ((c.HostConfig as Record<string, unknown>)["Memory"] = null)],
  ])("is carried as its default, not reported as unmapped: %s", (_field, remove) => {
    const cri = fullCri();
    expect(run(cri, remove)).toEqual([]);
  });

  it("sets the CRI field to its default (a removed Memory is no memory limit, a removed Binds no mounts)", () => {
    const cri = fullCri();
    run(cri, (c) => {
      delete c.HostConfig!.Memory;
      delete c.HostConfig!.Binds;
      delete c.HostConfig!.CpusetCpus;
    });
    expect(cri.linux!.resources).toMatchObject({ memory_limit_in_bytes: 0, cpuset_cpus: "" });
    expect(cri.mounts).toEqual([]);
  });
});

describe("applyDockerChanges: changes the mapping cannot carry", () => {
  it("returns HostConfig.NetworkMode and Cmd as unmapped, with their values", () => {
    const cri = fullCri();
    const unmapped = run(cri, (c) => {
      c.HostConfig!.NetworkMode = "host";
      c.Cmd = ["sh"];
      c.HostConfig!.Memory = 1; // mapped: applied, not returned
    });
    expect(unmapped).toEqual([
      { pointer: "/HostConfig/NetworkMode", before: undefined, after: "host" },
      { pointer: "/Cmd", before: undefined, after: ["sh"] },
    ]);
    expect(cri.linux!.resources!.memory_limit_in_bytes).toBe(1);
  });

  it("returns a mapped field set to a value CRI cannot hold (Privileged: \"yes\") rather than turning it into false", () => {
    expect(run(fullCri(), (c) => ((c.HostConfig as Record<string, unknown>)["Privileged"] = "yes"))).toEqual([{ pointer: "/HostConfig/Privileged", before: false, after: "yes" }]);
  });

  it("throws for a bind that has no CRI form, naming the bind and the fix", () => {
    expect(() => run(fullCri(), (c) => c.HostConfig!.Binds!.push("myvolume:/data"))).toThrow(/bind "myvolume:\/data" is not "\/host\/path:\/container\/path\[:options\]".*named volumes do not exist on the CRI path/);
  });
});

describe("mountOf and bindOf", () => {
  it.each([
    ["/a:/b", { host_path: "/a", container_path: "/b" }],
    ["/a:/b:ro", { host_path: "/a", container_path: "/b", readonly: true }],
    ["/a:/b:rw", { host_path: "/a", container_path: "/b", readonly: false }],
    ["/a:/b:Z", { host_path: "/a", container_path: "/b", selinux_relabel: true }],
    ["/a:/b:z", { host_path: "/a", container_path: "/b", selinux_relabel: true }],
    ["/a:/b:rprivate", { host_path: "/a", container_path: "/b", propagation: 0 }],
    ["/a:/b:private", { host_path: "/a", container_path: "/b", propagation: 0 }],
    ["/a:/b:rslave", { host_path: "/a", container_path: "/b", propagation: 1 }],
    ["/a:/b:slave", { host_path: "/a", container_path: "/b", propagation: 1 }],
    ["/a:/b:rshared", { host_path: "/a", container_path: "/b", propagation: 2 }],
    ["/a:/b:shared", { host_path: "/a", container_path: "/b", propagation: 2 }],
    ["/a:/b:ro,Z,rshared", { host_path: "/a", container_path: "/b", readonly: true, selinux_relabel: true, propagation: 2 }],
  ])("mountOf(%j) is the CRI mount %j", (bind, mount) => {
    expect(mountOf(bind)).toEqual(mount);
  });

  it.each([
    ["a named volume", "data:/data"],
    ["a relative host path", "./data:/data"],
    ["a relative container path", "/data:data"],
    ["no container path", "/data"],
    ["an empty string", ""],
    ["too many parts", "/a:/b:ro:extra"],
  ])("mountOf refuses %s, saying a CRI mount needs absolute paths", (_what, bind) => {
    expect(() => mountOf(bind)).toThrow(`bind ${JSON.stringify(bind)} is not "/host/path:/container/path[:options]"; a CRI mount needs absolute host and container paths (named volumes do not exist on the CRI path)`);
  });

  it.each(["nocopy", "delegated", "consistent", "RO", "propagation-3", ""])("mountOf refuses the option %j, listing the options it takes", (option) => {
    const bind = `/a:/b:ro,${option}`;
    expect(() => mountOf(bind)).toThrow(`bind ${JSON.stringify(bind)}: option ${JSON.stringify(option)} has no CRI mount field; use ro, rw, Z, z, rprivate, rslave or rshared`);
  });

  it("bindOf writes ro, Z and the propagation in that order, and nothing for the defaults", () => {
    expect(bindOf({ host_path: "/a", container_path: "/b", readonly: true, selinux_relabel: true, propagation: 1 })).toBe("/a:/b:ro,Z,rslave");
    expect(bindOf({ host_path: "/a", container_path: "/b", readonly: false, selinux_relabel: false, propagation: 0 })).toBe("/a:/b");
    expect(bindOf({ host_path: "/a", container_path: "/b", propagation: 9 })).toBe("/a:/b:propagation-9");
  });

  it("bindOf ∘ mountOf gives back every bind in bindOf's spelling, and mountOf ∘ bindOf every mount bindOf writes", () => {
    const flags = [undefined, true];
    for (const readonly of flags)
      for (const selinux_relabel of flags)
        for (const propagation of [undefined, 1, 2]) {
          const mount: CriMount = { container_path: "/ctr/path", host_path: "/host/path" };
          if (readonly) mount.readonly = readonly;
          if (selinux_relabel) mount.selinux_relabel = selinux_relabel;
          if (propagation) mount.propagation = propagation;
          const bind = bindOf(mount);
          expect(mountOf(bind), bind).toEqual(mount);
          expect(bindOf(mountOf(bind)), bind).toBe(bind);
        }
  });

  it("bindOf ∘ mountOf spells equivalent options one way (rw and rprivate dropped, z as Z, slave as rslave)", () => {
    expect(bindOf(mountOf("/a:/b:rw,z,slave"))).toBe("/a:/b:Z,rslave");
    expect(bindOf(mountOf("/a:/b:rprivate"))).toBe("/a:/b");
  });
});

describe("withCriFieldNames", () => {
  it("appends where the HostConfig fields a message names live in CRI's config", () => {
    expect(withCriFieldNames("HostConfig.Privileged is not allowed")).toBe("HostConfig.Privileged is not allowed [CRI: HostConfig.Privileged is linux.security_context.privileged]");
  });

  it("names each field once, in the mapping's order, however often the message names it", () => {
    expect(withCriFieldNames("HostConfig.Memory and HostConfig.CpuQuota; again HostConfig.Memory")).toBe(
      "HostConfig.Memory and HostConfig.CpuQuota; again HostConfig.Memory [CRI: HostConfig.Memory is linux.resources.memory_limit_in_bytes; HostConfig.CpuQuota is linux.resources.cpu_quota]",
    );
  });

  it("does not take HostConfig.MemorySwap for HostConfig.Memory", () => {
    expect(withCriFieldNames("HostConfig.MemorySwap too large")).toBe("HostConfig.MemorySwap too large [CRI: HostConfig.MemorySwap is linux.resources.memory_swap_limit_in_bytes]");
  });

  it("leaves a message that names no mapped HostConfig field as it is", () => {
    expect(withCriFieldNames("Env holds a secret; Memory is too high")).toBe("Env holds a secret; Memory is too high");
    expect(withCriFieldNames("HostConfig.NetworkMode must not be host")).toBe("HostConfig.NetworkMode must not be host");
  });
});

describe("CriMappingError", () => {
  const changes = [
    { pointer: "/HostConfig/NetworkMode", before: undefined, after: "host" },
    { pointer: "/Cmd", before: undefined, after: ["sh"] },
  ];

  it("is a PluginHookError with the plugin, the hook, a cause and the fields", () => {
    const error = new CriMappingError("netpolicy", "ContainerPlugin.preCreate", changes);
    expect(error).toBeInstanceOf(PluginHookError);
    expect(error.name).toBe("CriMappingError");
    expect(error.plugin).toBe("netpolicy");
    expect(error.hook).toBe("ContainerPlugin.preCreate");
    expect(error.fields).toEqual(["/HostConfig/NetworkMode", "/Cmd"]);
    expect(error.cause).toBeInstanceOf(Error);
    expect((error.cause as Error).message).toMatch(/^it changed HostConfig\.NetworkMode, Cmd, which the CRI relay cannot pass to the runtime/);
  });

  it("has a message naming the plugin, the fields, what the relay maps and the fix", () => {
    const message = new CriMappingError("netpolicy", "ContainerPlugin.preCreate", changes).message;
    expect(message).toMatch(/^plugin "netpolicy" failed in ContainerPlugin\.preCreate: /);
    expect(message).toContain("it changed HostConfig.NetworkMode, Cmd, which the CRI relay cannot pass to the runtime");
    expect(message).toContain(`it maps only ${criDockerMapping.map((m) => m.docker.slice(1).replace(/\//g, ".")).join(", ")}`);
    expect(message).toContain("set it in the pod spec instead, or change the plugin to leave it alone on Kubernetes nodes");
  });
});

describe("criStatusOf", () => {
  it("answers a plugin failure with FAILED_PRECONDITION (9), its message with the CRI field names appended", () => {
    const error = new PluginHookError("policy", "ContainerPlugin.preCreate", new Error("HostConfig.Privileged is not allowed"));
    const status = criStatusOf(error);
    expect(status).toBeInstanceOf(CriStatusError);
    expect(status.code).toBe(9);
    expect(status.code).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(status.message).toBe(`${error.message} [CRI: HostConfig.Privileged is linux.security_context.privileged]`);
    expect(status.cause).toBe(error);
  });

  it("answers a CriMappingError and a plugin timeout (PluginHookErrors) with FAILED_PRECONDITION", () => {
    expect(criStatusOf(new CriMappingError("p", "ContainerPlugin.preCreate", [{ pointer: "/Cmd", before: undefined, after: [] }])).code).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(criStatusOf(new PluginTimeoutError("p", "CriPlugin.preCreateContainer", 100)).code).toBe(GrpcStatus.FAILED_PRECONDITION);
  });

  it("answers a cancelled plugin with CANCELLED (1), not FAILED_PRECONDITION", () => {
    const error = new PluginAbortedError("slow", "ImagePlugin.postPull", new Error("the caller cancelled the call"));
    const status = criStatusOf(error);
    expect(status.code).toBe(1);
    expect(status.message).toBe(error.message);
    expect(status.cause).toBe(error);
  });

  it("passes a CriStatusError through as it is", () => {
    const error = new CriStatusError(GrpcStatus.RESOURCE_EXHAUSTED, "too large");
    expect(criStatusOf(error)).toBe(error);
  });

  it("answers anything else with INTERNAL (13), prefixed with the relay's name", () => {
    const error = new TypeError("boom");
    const status = criStatusOf(error);
    expect(status.code).toBe(13);
    expect(status.message).toBe("hookplugins cri-proxy: boom");
    expect(status.cause).toBe(error);
    expect(criStatusOf("a string").message).toBe("hookplugins cri-proxy: a string");
  });
});
