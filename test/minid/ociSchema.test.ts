import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleConfigs, ociConfigValidator, startTestDaemon, type TestDaemon } from "./helpers.js";

let d: TestDaemon;
let validate: (config: unknown) => string[];
beforeAll(async () => {
  validate = ociConfigValidator();
  // Dry-run writes exactly the bundles runc would get, and works without root.
  d = await startTestDaemon(
    (registry) => {
      registry.registerContainerPlugin({
        name: "hook-with-everything",
        preStart: () => [{ priority: 3, path: "/bin/true", args: ["x"], env: ["A=b"], timeout: 5 }],
      });
    },
    { dryRun: true },
  );
});
afterAll(async () => {
  await d.close();
});

const variants: Array<[string, Record<string, unknown>]> = [
  ["a plain busybox container", { Image: "busybox", Cmd: ["true"] }],
  ["memory and CPU limits", { Image: "busybox", Cmd: ["true"], HostConfig: { Memory: 64 * 1024 * 1024, CpuShares: 256 } }],
  ["a named volume and a read-only host bind", { Image: "busybox", Cmd: ["true"], HostConfig: { Binds: ["v1:/data", "/tmp:/host-tmp:ro"] } }],
  ["host networking, a user and a working directory", { Image: "busybox", Cmd: ["true"], User: "65534:65534", WorkingDir: "/tmp", HostConfig: { NetworkMode: "host" } }],
  ["an entrypoint, environment and a read-only root", { Image: "busybox", Entrypoint: ["sh", "-c"], Cmd: ["echo $A"], Env: ["A=1"], HostConfig: { ReadonlyRootfs: true } }],
];

describe("every config.json minid writes validates against the OCI runtime-spec schema", () => {
  it.each(variants)("for %s", async (_label, body) => {
    const created = await d.api("POST", "/v1.47/containers/create", JSON.stringify(body));
    expect(created.status).toBe(201);
    const id = (created.json as { Id: string }).Id;
    expect((await d.api("POST", `/v1.47/containers/${id}/start`)).status).toBe(204);
    const configs = await bundleConfigs(d.stateDir);
    const mine = configs.find((c) => c.path.includes(id));
    expect(mine).toBeDefined();
    expect(validate(mine?.config)).toEqual([]);
  });

  it("including all bundles of this daemon at once", async () => {
    const configs = await bundleConfigs(d.stateDir);
    expect(configs.length).toBeGreaterThanOrEqual(variants.length);
    for (const { path, config } of configs) expect({ path, errors: validate(config) }).toEqual({ path, errors: [] });
  });
});

it("the schema validator rejects a config.json with a malformed hook", async () => {
  const [first] = await bundleConfigs(d.stateDir);
  const config = first?.config as Record<string, unknown>;
  const broken = { ...config, hooks: { prestart: [{ args: ["no-path"] }] } };
  expect(validate(broken)).not.toEqual([]);
});
