import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHost, createRegistry, PluginHookError, type ContainerCreateConfig, type Host, type VolumeCreateConfig } from "hookplugins";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { envLimitsPlugin } from "../../hookplugins/envlimits/index.js";
import {
  createPolicyPlugins,
  currentRules,
  PolicyConfigError,
  policyContainerPlugin,
  PolicyViolationError,
  policyVolumePlugin,
  type PolicyRules,
} from "../../hookplugins/policy/index.js";

function hostWith(rules: PolicyRules | (() => PolicyRules)): Host {
  const registry = createRegistry();
  const { container, volume } = createPolicyPlugins(rules);
  registry.registerContainerPlugin(container);
  registry.registerVolumePlugin(volume);
  return createHost({ registry });
}

async function rejection(promise: Promise<unknown>): Promise<PluginHookError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PluginHookError);
  return error as PluginHookError;
}

const base = (extra: Partial<ContainerCreateConfig> = {}): ContainerCreateConfig => ({ Image: "busybox", ...extra });

describe("policy on containers", () => {
  it("allows every container when no rule is set", async () => {
    const config = base({ HostConfig: { Privileged: true, Binds: ["/etc:/x"] } });
    await expect(hostWith({}).container.preCreate(config)).resolves.toBe(config);
  });

  it("rejects a privileged container under denyPrivileged, naming the plugin, the hook, the rule and the fix", async () => {
    const error = await rejection(hostWith({ denyPrivileged: true }).container.preCreate(base({ HostConfig: { Privileged: true } })));
    expect(error.message).toBe(
      'plugin "policy" failed in ContainerPlugin.preCreate: policy rule denyPrivileged: privileged containers are not allowed; run it without --privileged (HostConfig.Privileged)',
    );
    expect(error.cause).toBeInstanceOf(PolicyViolationError);
    expect((error.cause as PolicyViolationError).violations.map((v) => v.rule)).toEqual(["denyPrivileged"]);
  });

  it("allows an unprivileged container under denyPrivileged", async () => {
    await expect(hostWith({ denyPrivileged: true }).container.preCreate(base({ HostConfig: { Privileged: false } }))).resolves.toBeDefined();
  });

  it("rejects a host bind mount outside allowedBindPrefixes and names the path and the allowed folders", async () => {
    const error = await rejection(
      hostWith({ allowedBindPrefixes: ["/srv/data"] }).container.preCreate(base({ HostConfig: { Binds: ["/srv/data/a:/a", "/etc:/host-etc:ro"] } })),
    );
    expect(error.message).toContain('policy rule allowedBindPrefixes: host path "/etc" (HostConfig.Binds[1] "/etc:/host-etc:ro") is outside the allowed folders /srv/data');
    expect(error.message).toContain("bind a folder inside one of them, or use a named volume");
  });

  it("sees through .. in a bind source and does not match a prefix by its first letters", async () => {
    const host = hostWith({ allowedBindPrefixes: ["/srv/data"] });
    await rejection(host.container.preCreate(base({ HostConfig: { Binds: ["/srv/data/../../etc:/x"] } })));
    await rejection(host.container.preCreate(base({ HostConfig: { Binds: ["/srv/database:/x"] } })));
  });

  it("allows host binds inside an allowed folder and named volumes anywhere", async () => {
    const config = base({ HostConfig: { Binds: ["/srv/data:/d", "/srv/data/x/y:/y:ro", "myvolume:/v"] } });
    await expect(hostWith({ allowedBindPrefixes: ["/srv/data/"] }).container.preCreate(config)).resolves.toBe(config);
  });

  it("checks --mount type=bind sources (HostConfig.Mounts) as well", async () => {
    const config = base({ HostConfig: { Mounts: [{ Type: "bind", Source: "/var/run", Target: "/r" }] } as ContainerCreateConfig["HostConfig"] });
    const error = await rejection(hostWith({ allowedBindPrefixes: ["/srv"] }).container.preCreate(config));
    expect(error.message).toContain('host path "/var/run" (HostConfig.Mounts[0])');
  });

  it("rejects a container missing a required label and says which --label to add", async () => {
    const error = await rejection(hostWith({ requiredLabels: ["team", "owner"] }).container.preCreate(base({ Labels: { team: "a" } })));
    expect(error.message).toContain('policy rule requiredLabels: missing label "owner"; add --label owner=<value>');
  });

  it("rejects a memory limit above maxMemory and a container with no memory limit", async () => {
    const host = hostWith({ maxMemory: "512m" });
    const above = await rejection(host.container.preCreate(base({ HostConfig: { Memory: 1024 ** 3 } })));
    expect(above.message).toContain("policy rule maxMemory: memory limit 1 GiB is above the ceiling of 512 MiB; lower it to at most -m 512m");
    const none = await rejection(host.container.preCreate(base({ HostConfig: { Memory: 0 } })));
    expect(none.message).toContain("policy rule maxMemory: no memory limit is set; set one of at most 512 MiB (-m 512m)");
    await expect(host.container.preCreate(base({ HostConfig: { Memory: 256 * 1024 ** 2 } }))).resolves.toBeDefined();
  });

  it("lists every broken rule in one message", async () => {
    const error = await rejection(
      hostWith({ denyPrivileged: true, requiredLabels: ["team"], maxMemory: 1024 ** 3 }).container.preCreate(base({ HostConfig: { Privileged: true } })),
    );
    expect((error.cause as PolicyViolationError).violations.map((v) => v.rule)).toEqual(["denyPrivileged", "requiredLabels", "maxMemory"]);
  });

  it("runs after plugins that change the config, so it checks the final config (envlimits' memory limit counts)", async () => {
    const registry = createRegistry();
    registry.registerContainerPlugin(createPolicyPlugins({ maxMemory: "512m" }).container);
    registry.registerContainerPlugin(envLimitsPlugin); // registered later, still runs first (policy's priority is -1000)
    const host = createHost({ registry });
    const config = await host.container.preCreate(base({ Env: ["HOOKPLUGINS_MEMORY=256m"] }));
    expect(config.HostConfig?.Memory).toBe(256 * 1024 ** 2);
    await rejection(host.container.preCreate(base({ Env: ["HOOKPLUGINS_MEMORY=1g"] })));
  });
});

describe("policy on volumes", () => {
  it("rejects a volume driver that is not allowed and counts no driver as local", async () => {
    const host = hostWith({ allowedVolumeDrivers: ["local"] });
    const error = await rejection(host.volume.preVolumeCreate({ Name: "v", Driver: "nfs" }));
    expect(error.message).toBe(
      'plugin "policy" failed in VolumePlugin.preVolumeCreate: policy rule allowedVolumeDrivers: volume driver "nfs" is not allowed; use one of: local (-d <driver>)',
    );
    await expect(host.volume.preVolumeCreate({ Name: "v" })).resolves.toEqual({ Name: "v" });
  });

  it("rejects driver options outside allowedVolumeOptions and names them", async () => {
    const host = hostWith({ allowedVolumeOptions: ["size"] });
    const config: VolumeCreateConfig = { Name: "v", DriverOpts: { size: "1g", device: "/dev/sda", o: "bind" } };
    const error = await rejection(host.volume.preVolumeCreate(config));
    expect(error.message).toContain('policy rule allowedVolumeOptions: volume options "device", "o" not allowed; allowed options: size');
    await expect(host.volume.preVolumeCreate({ Name: "v", DriverOpts: { size: "1g" } })).resolves.toBeDefined();
  });
});

describe("policy configuration", () => {
  let dir: string;
  const saved = { inline: process.env["HOOKPLUGINS_POLICY"], file: process.env["HOOKPLUGINS_POLICY_FILE"] };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "policy-test-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  afterEach(() => {
    for (const [key, value] of [["HOOKPLUGINS_POLICY", saved.inline], ["HOOKPLUGINS_POLICY_FILE", saved.file]] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  function defaultHost(): Host {
    const registry = createRegistry();
    registry.registerContainerPlugin(policyContainerPlugin);
    registry.registerVolumePlugin(policyVolumePlugin);
    return createHost({ registry });
  }

  it("reads the rules from HOOKPLUGINS_POLICY as inline JSON", async () => {
    process.env["HOOKPLUGINS_POLICY"] = JSON.stringify({ denyPrivileged: true });
    await rejection(defaultHost().container.preCreate(base({ HostConfig: { Privileged: true } })));
  });

  it("reads the rules from the file HOOKPLUGINS_POLICY_FILE names, and applies an edit on the next call", async () => {
    const file = join(dir, "policy.json");
    await writeFile(file, JSON.stringify({ requiredLabels: ["team"] }));
    process.env["HOOKPLUGINS_POLICY_FILE"] = file;
    const host = defaultHost();
    await rejection(host.container.preCreate(base()));
    await writeFile(file, JSON.stringify({ requiredLabels: [] }, null, 2));
    await expect(host.container.preCreate(base())).resolves.toBeDefined();
  });

  it("turns every rule off when neither variable is set", () => {
    expect(currentRules({})).toEqual({});
  });

  it("rejects an unknown rule, naming it and the known rules", () => {
    expect(() => currentRules({ HOOKPLUGINS_POLICY: '{"denyPriviledged": true}' })).toThrow(
      /HOOKPLUGINS_POLICY: unknown rule "denyPriviledged"; known rules: denyPrivileged, allowedBindPrefixes/,
    );
  });

  it("rejects bad values and bad JSON with the key and the expected form", () => {
    expect(() => currentRules({ HOOKPLUGINS_POLICY: '{"maxMemory": "lots"}' })).toThrow(/"maxMemory" must be a number of bytes > 0 or a size such as "512m"/);
    expect(() => currentRules({ HOOKPLUGINS_POLICY: '{"allowedBindPrefixes": ["srv"]}' })).toThrow(/"allowedBindPrefixes" entry "srv" must be an absolute path/);
    expect(() => currentRules({ HOOKPLUGINS_POLICY: "{nope" })).toThrow(PolicyConfigError);
  });

  it("fails the hook (and so the operation) when the policy file is missing, saying how to fix it", async () => {
    process.env["HOOKPLUGINS_POLICY_FILE"] = join(dir, "missing.json");
    const error = await rejection(defaultHost().container.preCreate(base()));
    expect(error.message).toMatch(/cannot read the policy file .*missing\.json \(HOOKPLUGINS_POLICY_FILE\).*create it or unset HOOKPLUGINS_POLICY_FILE/);
  });

  it("refuses both variables at once", () => {
    expect(() => currentRules({ HOOKPLUGINS_POLICY: "{}", HOOKPLUGINS_POLICY_FILE: "/x.json" })).toThrow(/set only one of them/);
  });

  it("rejects invalid rules passed to createPolicyPlugins at once", () => {
    expect(() => createPolicyPlugins({ maxMemory: -1 })).toThrow(PolicyConfigError);
  });
});

it("passes the build's plugin checks and registers policy as a ContainerPlugin and a VolumePlugin", async () => {
  const { checkPlugin } = await import("../../src/inclusion/checkPlugin.js");
  const repoRoot = new URL("../..", import.meta.url).pathname;
  const checked = await checkPlugin("./hookplugins/policy", repoRoot);
  expect(checked.registered.map((p) => `${p.type} ${p.name} ${p.priority}`)).toEqual(["ContainerPlugin policy -1000", "VolumePlugin policy -1000"]);
});
