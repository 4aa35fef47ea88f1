import { Readable } from "node:stream";
import { createHost, createRegistry, PluginHookError, type ContainerCreateConfig, type Host } from "hookplugins";
import { describe, expect, it } from "vitest";
import { envLimitsPlugin } from "../../hookplugins/envlimits/index.js";
import { parseSize } from "../../hookplugins/envlimits/limits.js";

function hostWithEnvLimits(): Host {
  const registry = createRegistry();
  registry.registerContainerPlugin(envLimitsPlugin);
  return createHost({ registry });
}

function create(env: string[], hostConfig?: ContainerCreateConfig["HostConfig"]): Promise<ContainerCreateConfig> {
  const config: ContainerCreateConfig = { Image: "busybox", Env: env };
  if (hostConfig) config.HostConfig = hostConfig;
  return hostWithEnvLimits().container.preCreate(config);
}

async function createError(env: string[]): Promise<PluginHookError> {
  const error: unknown = await create(env).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PluginHookError);
  return error as PluginHookError;
}

async function update(body: string): Promise<string> {
  const out = await hostWithEnvLimits().container.preUpdate(Readable.from([Buffer.from(body)]));
  const chunks: Buffer[] = [];
  for await (const chunk of out) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks).toString("utf8");
}

describe("envlimits preCreate", () => {
  it("turns HOOKPLUGINS_MEMORY=512m and HOOKPLUGINS_CPU_SHARES=512 into HostConfig.Memory and HostConfig.CpuShares", async () => {
    const config = await create(["HOOKPLUGINS_MEMORY=512m", "HOOKPLUGINS_CPU_SHARES=512"]);
    expect(config.HostConfig).toEqual({ Memory: 512 * 1024 * 1024, CpuShares: 512 });
  });

  it("removes the limit entries from Env and keeps the other entries in their order", async () => {
    const config = await create(["B=2", "HOOKPLUGINS_MEMORY=1g", "A=1", "HOOKPLUGINS_PIDS_LIMIT=100", "C=3"]);
    expect(config.Env).toEqual(["B=2", "A=1", "C=3"]);
  });

  it("maps memory swap, CPU quota, CPU period and pids limit to their HostConfig fields", async () => {
    const config = await create([
      "HOOKPLUGINS_MEMORY_SWAP=2g",
      "HOOKPLUGINS_CPU_QUOTA=50000",
      "HOOKPLUGINS_CPU_PERIOD=100000",
      "HOOKPLUGINS_PIDS_LIMIT=64",
    ]);
    expect(config.HostConfig).toEqual({ MemorySwap: 2 * 1024 ** 3, CpuQuota: 50_000, CpuPeriod: 100_000, PidsLimit: 64 });
  });

  it("accepts -1 for unlimited swap, no CPU quota and unlimited pids", async () => {
    const config = await create(["HOOKPLUGINS_MEMORY_SWAP=-1", "HOOKPLUGINS_CPU_QUOTA=-1", "HOOKPLUGINS_PIDS_LIMIT=-1"]);
    expect(config.HostConfig).toEqual({ MemorySwap: -1, CpuQuota: -1, PidsLimit: -1 });
  });

  it("keeps the HostConfig fields the user set that no variable touches", async () => {
    const config = await create(["HOOKPLUGINS_MEMORY=64m"], { NetworkMode: "bridge", CpuShares: 0 });
    expect(config.HostConfig).toEqual({ NetworkMode: "bridge", CpuShares: 0, Memory: 64 * 1024 * 1024 });
  });

  it("lets an explicit HostConfig field win over the variable, which still leaves Env", async () => {
    const config = await create(["HOOKPLUGINS_MEMORY=512m", "KEEP=1"], { Memory: 256 * 1024 * 1024 });
    expect(config.HostConfig?.Memory).toBe(256 * 1024 * 1024);
    expect(config.Env).toEqual(["KEEP=1"]);
  });

  it("treats a HostConfig field of 0 as unset (clients send 0 for no limit) and uses the variable", async () => {
    const config = await create(["HOOKPLUGINS_CPU_SHARES=512"], { CpuShares: 0 });
    expect(config.HostConfig?.CpuShares).toBe(512);
  });

  it("uses the last value when a variable appears twice", async () => {
    const config = await create(["HOOKPLUGINS_MEMORY=1g", "HOOKPLUGINS_MEMORY=2g"]);
    expect(config.HostConfig?.Memory).toBe(2 * 1024 ** 3);
  });

  it("leaves a config without limit variables as it was, adding no HostConfig", async () => {
    const config = await create(["A=1", "HOOKPLUGINS_OTHER=x"]);
    expect(config).toEqual({ Image: "busybox", Env: ["A=1", "HOOKPLUGINS_OTHER=x"] });
  });

  it("rejects HOOKPLUGINS_MEMORY=lots with a PluginHookError naming the plugin, the variable, the value and the accepted forms", async () => {
    const error = await createError(["HOOKPLUGINS_MEMORY=lots"]);
    expect(error.plugin).toBe("envlimits");
    expect(error.hook).toBe("ContainerPlugin.preCreate");
    expect(error.message).toContain('HOOKPLUGINS_MEMORY="lots"');
    expect(error.message).toMatch(/512m, 1g, 1024k/);
  });

  it.each([
    "HOOKPLUGINS_MEMORY=0",
    "HOOKPLUGINS_MEMORY=12x",
    "HOOKPLUGINS_MEMORY=-512m",
    "HOOKPLUGINS_MEMORY= 512m",
    "HOOKPLUGINS_MEMORY",
    "HOOKPLUGINS_MEMORY_SWAP=-2",
    "HOOKPLUGINS_CPU_SHARES=1",
    "HOOKPLUGINS_CPU_SHARES=1.5",
    "HOOKPLUGINS_CPU_QUOTA=999",
    "HOOKPLUGINS_CPU_PERIOD=2000000",
    "HOOKPLUGINS_PIDS_LIMIT=0",
  ])("rejects %s with an error naming the variable", async (entry) => {
    const error = await createError([entry]);
    expect(error.message).toContain(`${entry.split("=")[0]}=`);
  });
});

describe("envlimits sizes", () => {
  it.each([
    ["1048576", 1048576],
    ["100b", 100],
    ["1024k", 1024 * 1024],
    ["1024K", 1024 * 1024],
    ["512m", 512 * 1024 ** 2],
    ["512MB", 512 * 1024 ** 2],
    ["1g", 1024 ** 3],
    ["2G", 2 * 1024 ** 3],
    ["1.5g", 1.5 * 1024 ** 3],
  ])("reads %s as %i bytes", (raw, bytes) => {
    expect(parseSize(raw)).toBe(bytes);
  });

  it.each(["", "m", "1t", "1 g", "1e3", "0x10", "lots"])("does not read %j as a size", (raw) => {
    expect(parseSize(raw)).toBeUndefined();
  });
});

describe("envlimits preUpdate", () => {
  it("moves limit entries of the update body's Env into top-level resource fields", async () => {
    const out = await update(JSON.stringify({ Env: ["HOOKPLUGINS_MEMORY=1g", "TZ=UTC"], RestartPolicy: { Name: "always" } }));
    expect(JSON.parse(out)).toEqual({ Env: ["TZ=UTC"], RestartPolicy: { Name: "always" }, Memory: 1024 ** 3 });
  });

  it("lets a resource field set in the update body win over the variable", async () => {
    const out = await update(JSON.stringify({ Memory: 1024, Env: ["HOOKPLUGINS_MEMORY=1g"] }));
    expect(JSON.parse(out)).toEqual({ Memory: 1024, Env: [] });
  });

  it("passes a body without limit variables through byte for byte", async () => {
    const body = '{ "CpuShares" : 512,\n  "Env": ["A=1"] }';
    expect(await update(body)).toBe(body);
  });

  it("passes a body that is not JSON through unchanged for the daemon to judge", async () => {
    expect(await update("not json {")).toBe("not json {");
  });

  it("rejects a bad value in the update body with a PluginHookError naming the plugin and the variable", async () => {
    const error: unknown = await update(JSON.stringify({ Env: ["HOOKPLUGINS_CPU_SHARES=many"] })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PluginHookError);
    expect((error as PluginHookError).plugin).toBe("envlimits");
    expect((error as Error).message).toContain('HOOKPLUGINS_CPU_SHARES="many"');
  });
});
