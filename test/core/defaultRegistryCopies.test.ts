import { describe, expect, it, vi } from "vitest";

type DefaultRegistryModule = typeof import("../../src/registry/defaultRegistry.js");

async function freshCopy(): Promise<DefaultRegistryModule> {
  vi.resetModules();
  return import("../../src/registry/defaultRegistry.js");
}

describe("the default registry", () => {
  it("is one per process even when two copies of the library are loaded", async () => {
    const first = await freshCopy();
    const second = await freshCopy();
    expect(first).not.toBe(second);
    const unregister = first.registerContainerPlugin({ name: "copy-check", preCreate: () => {} });
    try {
      expect(second.defaultRegistry.list("ContainerPlugin").map((p) => p.name)).toContain("copy-check");
    } finally {
      unregister();
    }
    expect(second.defaultRegistry.list().some((p) => p.name === "copy-check")).toBe(false);
  });
});
