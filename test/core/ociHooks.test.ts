import { toOciHooks, type OciHook, type PrestartHook } from "hookplugins";
import { beforeAll, describe, expect, it } from "vitest";
import { ociConfigValidator, ociExampleConfig, type OciValidate } from "../support/ociSchema.js";
import { setup } from "./helpers.js";

/** The spec's example config.json with `prestart` as its only hooks. */
function configWith(prestart: unknown): Record<string, unknown> {
  return { ...ociExampleConfig(), hooks: { prestart } };
}

describe("toOciHooks", () => {
  it("puts the program path first in args, followed by the plugin's args (execv semantics)", () => {
    expect(toOciHooks([{ priority: 0, path: "/usr/bin/fix-mounts", args: ["arg1", "arg2"] }])).toEqual([
      { path: "/usr/bin/fix-mounts", args: ["/usr/bin/fix-mounts", "arg1", "arg2"] },
    ]);
  });

  it("gives a hook without args just the program path as args", () => {
    expect(toOciHooks([{ priority: 0, path: "/usr/bin/setup-network" }])).toEqual([
      { path: "/usr/bin/setup-network", args: ["/usr/bin/setup-network"] },
    ]);
  });

  it("carries env and timeout over, drops priority, and adds no keys for absent fields", () => {
    const [withAll, bare] = toOciHooks([
      { priority: 4, path: "/bin/a", env: ["K=v"], timeout: 5 },
      { priority: 1, path: "/bin/b" },
    ]);
    expect(withAll).toEqual({ path: "/bin/a", args: ["/bin/a"], env: ["K=v"], timeout: 5 });
    expect(Object.keys(bare!).sort()).toEqual(["args", "path"]);
  });

  it("keeps the order of its input", () => {
    const hooks: PrestartHook[] = [
      { priority: -1, path: "/bin/c" },
      { priority: 9, path: "/bin/a" },
    ];
    expect(toOciHooks(hooks).map((h) => h.path)).toEqual(["/bin/c", "/bin/a"]);
  });

  it("rejects an invalid hook with a TypeError naming its position", () => {
    expect(() => toOciHooks([{ priority: 0, path: "/ok" }, { priority: 0, path: "relative" }])).toThrow(/prestart hook #1: path/);
  });
});

describe("toOciHooks output against the OCI runtime-spec schema", () => {
  let validate: OciValidate;
  beforeAll(() => {
    validate = ociConfigValidator();
  });

  it("the schema validator rejects a config.json whose hook has no path (so it can fail)", () => {
    expect(validate(configWith([{ args: ["x"] }]))).not.toEqual([]);
  });

  it("the schema validator rejects a config.json whose hook timeout is 0", () => {
    expect(validate(configWith([{ path: "/bin/x", timeout: 0 }]))).not.toEqual([]);
  });

  it("validates a full config.json whose hooks.prestart is the merged preStart result of a host", async () => {
    const { registry, host } = setup();
    registry.registerContainerPlugin({
      name: "everything",
      preStart: () => [
        { priority: 3, path: "/usr/local/bin/setup-gpu", args: ["--all"], env: ["GPU=1"], timeout: 5 },
        { priority: -2, path: "/usr/local/bin/audit" },
      ],
    });
    const merged = await host.container.preStart({}, { builtin: [{ priority: 0, path: "/usr/libexec/network-hook", args: ["setup"] }] });
    const prestart: OciHook[] = toOciHooks(merged);
    const document = JSON.parse(JSON.stringify(configWith(prestart))) as unknown;
    expect(validate(document)).toEqual([]);
    expect(prestart.map((h) => h.args[0])).toEqual(["/usr/local/bin/setup-gpu", "/usr/libexec/network-hook", "/usr/local/bin/audit"]);
  });
});
