import { createHost, createRegistry, type AuditEntry, type ContainerCreateConfig, type Host, type PluginRegistry } from "hookplugins";
import { describe, expect, expectTypeOf, it } from "vitest";
import { envLimitsPlugin } from "../../hookplugins/envlimits/index.js";

function host(setup: (registry: PluginRegistry) => void): Host {
  const registry = createRegistry();
  setup(registry);
  return createHost({ registry });
}

describe("the audit of a waterfall call", () => {
  it("records which plugin changed which leaf field, with the value before and after", async () => {
    const h = host((r) => r.registerContainerPlugin(envLimitsPlugin));
    const audit: AuditEntry[] = [];
    await h.container.preCreate({ Image: "busybox", Env: ["HOOKPLUGINS_MEMORY=512m", "A=1"] }, { audit });
    expect(audit).toEqual([
      { pointer: "/Env", plugin: "envlimits", before: ["HOOKPLUGINS_MEMORY=512m", "A=1"], after: ["A=1"] },
      { pointer: "/HostConfig/Memory", plugin: "envlimits", before: undefined, after: 512 * 1024 * 1024 },
    ]);
  });

  it("does not change the call's outcome when a value cannot be copied: that step is simply not audited", async () => {
    const h = host((r) => r.registerContainerPlugin({ name: "labeler", preCreate: (_c, config) => void (config.Labels = { a: "1" }) }));
    const audit: AuditEntry[] = [];
    const withFunction = { Image: "busybox", OnExit: () => undefined } as unknown as ContainerCreateConfig;
    const result = await h.container.preCreate(withFunction, { audit });
    expect(result.Labels).toEqual({ a: "1" });
    expect(audit).toEqual([]);
  });

  it("attributes each change to its plugin, in the order the plugins ran", async () => {
    const h = host((r) => {
      r.registerContainerPlugin({ name: "second", priority: 1, preCreate: (_c, config) => void (config.User = "nobody") });
      r.registerContainerPlugin({ name: "first", priority: 2, preCreate: (_c, config) => ({ ...config, Labels: { a: "1" } }) });
    });
    const audit: AuditEntry[] = [];
    await h.container.preCreate({ Image: "x" }, { audit });
    expect(audit.map((e) => `${e.pointer} by ${e.plugin}`)).toEqual(["/Labels/a by first", "/User by second"]);
  });

  it("records async plugins' changes", async () => {
    const h = host((r) =>
      r.registerContainerPlugin({
        name: "slow",
        preCreate: async (_c, config) => {
          await new Promise((resolve) => setTimeout(resolve, 1));
          config.Hostname = "h";
        },
      }),
    );
    const audit: AuditEntry[] = [];
    await h.container.preCreate({ Image: "x" }, { audit });
    expect(audit).toEqual([{ pointer: "/Hostname", plugin: "slow", before: undefined, after: "h" }]);
  });

  it("records nothing for a plugin that leaves the config as it was", async () => {
    const h = host((r) => r.registerContainerPlugin({ name: "reader", preCreate: (_c, config) => ({ ...config }) }));
    const audit: AuditEntry[] = [];
    await h.container.preCreate({ Image: "x", Env: ["A=1"] }, { audit });
    expect(audit).toEqual([]);
  });

  it("records nothing for a fail-open plugin that failed after mutating its copy", async () => {
    const h = host((r) =>
      r.registerContainerPlugin({
        name: "broken",
        failPolicy: "fail-open",
        preCreate: (_c, config) => {
          config.User = "root";
          throw new Error("boom");
        },
      }),
    );
    const audit: AuditEntry[] = [];
    const config = await h.container.preCreate({ Image: "x" }, { audit });
    expect(config.User).toBeUndefined();
    expect(audit).toEqual([]);
  });

  it("keeps the recorded after-values even when a later plugin changes the field again", async () => {
    const h = host((r) => {
      r.registerContainerPlugin({ name: "a", priority: 2, preCreate: (_c, config) => void (config.Env = ["X=1"]) });
      r.registerContainerPlugin({ name: "b", priority: 1, preCreate: (_c, config) => void config.Env!.push("Y=2") });
    });
    const audit: AuditEntry[] = [];
    await h.container.preCreate({ Image: "x" }, { audit });
    expect(audit).toEqual([
      { pointer: "/Env", plugin: "a", before: undefined, after: ["X=1"] },
      { pointer: "/Env", plugin: "b", before: ["X=1"], after: ["X=1", "Y=2"] },
    ]);
  });

  it("works at preVolumeCreate, preCreateEndpoint and CRI preCreateContainer too", async () => {
    const h = host((r) => {
      r.registerVolumePlugin({ name: "vol", preVolumeCreate: (_c, config) => void (config.DriverOpts = { size: "1g" }) });
      r.registerContainerPlugin({ name: "ep", preCreateEndpoint: (_c, _id, _env, endpoint) => void (endpoint.Priority = 5) });
      r.registerCriPlugin({ name: "cri", preCreateContainer: (_c, config) => void (config.User = "1000") });
    });
    const audit: AuditEntry[] = [];
    await h.volume.preVolumeCreate({ Name: "v" }, { audit });
    await h.container.preCreateEndpoint("id", [], { Name: "bridge" }, { audit });
    await h.cri.preCreateContainer({ Image: "x" }, {}, { audit });
    expect(audit.map((e) => `${e.pointer} by ${e.plugin}`)).toEqual(["/DriverOpts/size by vol", "/Priority by ep", "/User by cri"]);
  });

  it("keeps the entries recorded before a fail-closed plugin rejected the call", async () => {
    const h = host((r) => {
      r.registerContainerPlugin({ name: "a", priority: 2, preCreate: (_c, config) => void (config.User = "u") });
      r.registerContainerPlugin({ name: "b", priority: 1, preCreate: () => { throw new Error("no"); } });
    });
    const audit: AuditEntry[] = [];
    await expect(h.container.preCreate({ Image: "x" }, { audit })).rejects.toThrow('plugin "b" failed');
    expect(audit.map((e) => e.plugin)).toEqual(["a"]);
  });

  it("is typed: audit takes an AuditEntry array and only on waterfall calls", () => {
    const h = createHost();
    expectTypeOf(h.container.preCreate).parameter(1).toEqualTypeOf<import("hookplugins").WaterfallOptions | undefined>();
    // @ts-expect-error postUpdate is a notification: it has no audit
    void h.container.postUpdate("/", [], { audit: [] });
    const config: ContainerCreateConfig = { Image: "x" };
    // @ts-expect-error audit entries are AuditEntry objects
    void h.container.preCreate(config, { audit: [1] });
  });
});
