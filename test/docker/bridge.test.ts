/**
 * The Docker bridge over its socket, with requests shaped as dockerd 20.10 sends them (see ../shared/docker-v1/samples):
 * the proof against the real dockerd is test/docker/dockerd.test.ts.
 */
import { existsSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHost, createRegistry, type ContainerCreateConfig, type PluginRegistry } from "hookplugins";
import { createDockerBridge, DockerBridgeError, type DockerBridge, type DockerBridgeOptions } from "hookplugins/docker";
import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from "vitest";
import { envLimitsPlugin } from "../../hookplugins/envlimits/index.js";
import { createPolicyPlugins } from "../../hookplugins/policy/index.js";
import { post } from "../external/helpers.js";

let dir: string;
const bridges: DockerBridge[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "hpbridge-"));
});
afterEach(async () => {
  for (const b of bridges.splice(0)) await b.close();
  await rm(dir, { recursive: true, force: true });
});

async function bridge(setup: (r: PluginRegistry) => void, options: Partial<DockerBridgeOptions> = {}): Promise<DockerBridge> {
  const registry = createRegistry();
  setup(registry);
  const b = await createDockerBridge({ host: createHost({ registry, timeoutMs: 200 }), name: "hptest", authz: true, socket: join(dir, "p.sock"), ...options });
  bridges.push(b);
  return b;
}

/** The AuthZReq dockerd sends for `docker create` (the CLI's full body, trimmed to the fields that matter here). */
function createReq(config: Partial<ContainerCreateConfig> & Record<string, unknown>, uri = "/v1.41/containers/create?name=c1"): string {
  const body = { Image: "bb", Env: null, Labels: {}, HostConfig: { Binds: null, Memory: 0, Privileged: false, NetworkMode: "none" }, ...config };
  return `${JSON.stringify({
    RequestMethod: "POST",
    RequestUri: uri,
    RequestBody: Buffer.from(`${JSON.stringify(body)}\n`).toString("base64"),
    RequestHeaders: { "Content-Type": "application/json", "User-Agent": "Docker-Client/28.2.2 (linux)" },
  })}\n`;
}

const authzReq = async (b: DockerBridge, body: string): Promise<{ Allow: boolean; Msg?: string }> => {
  const reply = await post(b.socketPath, "/AuthZPlugin.AuthZReq", body);
  expect(reply.status).toBe(200);
  return reply.json as { Allow: boolean; Msg?: string };
};

describe("the bridge as Docker's authorization plugin", () => {
  it("answers /Plugin.Activate with authz (and VolumeDriver when it is also a volume driver) on a 0600 socket", async () => {
    const b = await bridge(() => undefined, { volumeDriver: { root: join(dir, "vols") } });
    expect((await post(b.socketPath, "/Plugin.Activate")).json).toEqual({ Implements: ["authz", "VolumeDriver"] });
    expect(statSync(b.socketPath).mode & 0o777).toBe(0o600);
  });

  it("allows every request that is not a create, and every AuthZRes", async () => {
    const b = await bridge((r) => r.registerContainerPlugin({ name: "no", preCreate: () => { throw new Error("no"); } }));
    expect(await authzReq(b, '{"RequestMethod":"HEAD","RequestUri":"/_ping","RequestHeaders":{}}\n')).toEqual({ Allow: true });
    expect(await authzReq(b, '{"RequestMethod":"POST","RequestUri":"/v1.41/containers/abc/start","RequestHeaders":{}}\n')).toEqual({ Allow: true });
    expect((await post(b.socketPath, "/AuthZPlugin.AuthZRes", createReq({}))).json).toEqual({ Allow: true });
  });

  it("denies a container create a plugin rejects, with the PluginHookError message naming the plugin and the hook", async () => {
    const b = await bridge((r) => r.registerContainerPlugin(createPolicyPlugins({ denyPrivileged: true }).container));
    const reply = await authzReq(b, createReq({ HostConfig: { Privileged: true } }));
    expect(reply).toEqual({
      Allow: false,
      Msg: 'plugin "policy" failed in ContainerPlugin.preCreate: policy rule denyPrivileged: privileged containers are not allowed; run it without --privileged (HostConfig.Privileged)',
    });
  });

  it("matches the create path with any /v1.xx prefix, without one, and with a query", async () => {
    const b = await bridge((r) => r.registerContainerPlugin(createPolicyPlugins({ denyPrivileged: true }).container));
    for (const uri of ["/containers/create", "/v1.24/containers/create?name=x", "/v1.41/containers/create/"]) {
      expect((await authzReq(b, createReq({ HostConfig: { Privileged: true } }, uri))).Allow).toBe(false);
    }
    expect((await authzReq(b, createReq({ HostConfig: { Privileged: true } }, "/v1.41/containers/createx"))).Allow).toBe(true);
  });

  it("allows a container create the plugins accept unchanged", async () => {
    const b = await bridge((r) => r.registerContainerPlugin(createPolicyPlugins({ denyPrivileged: true }).container));
    expect(await authzReq(b, createReq({}))).toEqual({ Allow: true });
  });

  it("--on-change deny: denies a create plugins would change, listing each changed field as a JSON pointer with its plugin", async () => {
    const b = await bridge((r) => r.registerContainerPlugin(envLimitsPlugin));
    const reply = await authzReq(b, createReq({ Env: ["HOOKPLUGINS_MEMORY=512m", "A=1"] }));
    expect(reply.Allow).toBe(false);
    expect(reply.Msg).toBe(
      'plugins would change this container create, and Docker cannot apply a changed request: /Env by envlimits (["HOOKPLUGINS_MEMORY=512m","A=1"] -> ["A=1"]), /HostConfig/Memory by envlimits (0 -> 536870912); set these fields yourself, or run the bridge with --on-change warn or allow',
    );
  });

  it("--on-change warn: allows the create and writes the same list to its warning output", async () => {
    const lines: string[] = [];
    const b = await bridge((r) => r.registerContainerPlugin(envLimitsPlugin), { onChange: "warn", warn: (l) => lines.push(l) });
    expect(await authzReq(b, createReq({ Env: ["HOOKPLUGINS_MEMORY=512m"] }))).toEqual({ Allow: true });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("/HostConfig/Memory by envlimits (0 -> 536870912)");
  });

  it("--on-change allow: allows the create silently", async () => {
    const lines: string[] = [];
    const b = await bridge((r) => r.registerContainerPlugin(envLimitsPlugin), { onChange: "allow", warn: (l) => lines.push(l) });
    expect(await authzReq(b, createReq({ Env: ["HOOKPLUGINS_MEMORY=512m"] }))).toEqual({ Allow: true });
    expect(lines).toEqual([]);
  });

  it("does not count a field one plugin changes and another changes back", async () => {
    const b = await bridge((r) => {
      r.registerContainerPlugin({ name: "set", priority: 2, preCreate: (_c, config) => void (config.User = "x") });
      r.registerContainerPlugin({ name: "unset", priority: 1, preCreate: (_c, config) => void delete config.User });
    });
    expect(await authzReq(b, createReq({}))).toEqual({ Allow: true });
  });

  it("runs volume creates through preVolumeCreate", async () => {
    const b = await bridge((r) => r.registerVolumePlugin(createPolicyPlugins({ allowedVolumeOptions: [] }).volume));
    const body = { RequestMethod: "POST", RequestUri: "/v1.41/volumes/create", RequestBody: Buffer.from('{"Name":"v","Driver":"local","DriverOpts":{"o":"bind"},"Labels":null}').toString("base64") };
    const reply = await authzReq(b, JSON.stringify(body));
    expect(reply.Allow).toBe(false);
    expect(reply.Msg).toContain('plugin "policy" failed in VolumePlugin.preVolumeCreate: policy rule allowedVolumeOptions');
  });

  it("denies a create it cannot read, saying why", async () => {
    const b = await bridge(() => undefined);
    const notJson = { RequestMethod: "POST", RequestUri: "/v1.41/containers/create", RequestBody: Buffer.from("{nope").toString("base64") };
    expect((await authzReq(b, JSON.stringify(notJson))).Msg).toMatch(/^hookplugins cannot read this request, so it is denied: the body of POST \/containers\/create is not valid JSON/);
    const noBody = { RequestMethod: "POST", RequestUri: "/v1.41/containers/create" };
    expect((await authzReq(b, JSON.stringify(noBody))).Msg).toBe("hookplugins cannot read this request, so it is denied: POST /containers/create has no JSON body");
    expect((await authzReq(b, '{"foo":1}')).Msg).toBe("hookplugins cannot read this request, so it is denied: the AuthZReq has no RequestMethod or RequestUri");
  });

  it("denies within the plugin's time limit when a plugin hangs, naming it", async () => {
    const b = await bridge((r) => r.registerContainerPlugin({ name: "hang", timeoutMs: 300, preCreate: () => new Promise(() => undefined) }));
    const t0 = Date.now();
    const reply = await authzReq(b, createReq({}));
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(reply.Allow).toBe(false);
    expect(reply.Msg).toContain('plugin "hang" timed out in ContainerPlugin.preCreate after 300 ms');
  });

  it("denies at the bridge's own request limit when a plugin without a time limit hangs", async () => {
    const b = await bridge((r) => r.registerContainerPlugin({ name: "forever", timeoutMs: 0, preCreate: () => new Promise(() => undefined) }), { requestTimeoutMs: 300 });
    const reply = await authzReq(b, createReq({}));
    expect(reply.Allow).toBe(false);
    expect(reply.Msg).toMatch(/plugin "forever" was cancelled in ContainerPlugin.preCreate/);
  });

  it("answers 100 concurrent requests, each with its own verdict", async () => {
    const b = await bridge((r) => r.registerContainerPlugin(createPolicyPlugins({ requiredLabels: ["team"] }).container));
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => authzReq(b, createReq({ Labels: i % 2 ? { team: "a" } : {} }))));
    replies.forEach((reply, i) => expect(reply.Allow).toBe(i % 2 === 1));
    expect(b.authzStats).toEqual({ requests: 100, denied: 50 });
  });
});

describe("the bridge as a Docker volume driver", () => {
  const call = async (b: DockerBridge, method: string, body: unknown = {}): Promise<Record<string, unknown>> => {
    const reply = await post(b.socketPath, `/VolumeDriver.${method}`, `${JSON.stringify(body)}\n`);
    expect(reply.status).toBe(200);
    return reply.json as Record<string, unknown>;
  };

  it("creates, gets, lists, mounts, unmounts and removes a volume the way dockerd calls them", async () => {
    const root = join(dir, "vols");
    const b = await bridge(() => undefined, { authz: false, volumeDriver: { root } });
    expect(await call(b, "Capabilities")).toEqual({ Capabilities: { Scope: "local" } });
    expect(await call(b, "Get", { Name: "v1" })).toEqual({ Err: "no such volume: v1" });
    expect(await call(b, "Create", { Name: "v1", Opts: null })).toEqual({});
    expect(await call(b, "Get", { Name: "v1" })).toMatchObject({ Volume: { Name: "v1", Mountpoint: join(root, "v1") } });
    expect(await call(b, "List")).toEqual({ Volumes: [{ Name: "v1", Mountpoint: join(root, "v1") }] });
    expect(await call(b, "Mount", { Name: "v1", ID: "c1" })).toEqual({ Mountpoint: join(root, "v1") });
    expect(await call(b, "Path", { Name: "v1" })).toEqual({ Mountpoint: join(root, "v1") });
    expect((await call(b, "Remove", { Name: "v1" })).Err).toMatch(/volume v1 is in use by 1 container/);
    expect(await call(b, "Unmount", { Name: "v1", ID: "c1" })).toEqual({});
    expect(await call(b, "Remove", { Name: "v1" })).toEqual({});
    expect(existsSync(join(root, "v1"))).toBe(false);
  });

  it("answers List with no body at all, as moby's Go client sends it", async () => {
    const b = await bridge(() => undefined, { authz: false, volumeDriver: { root: join(dir, "vols") } });
    expect((await post(b.socketPath, "/VolumeDriver.List")).json).toEqual({ Volumes: [] });
  });

  it("runs preVolumeCreate with the name, the driver and the options: a rejection is the Err dockerd shows", async () => {
    const b = await bridge((r) => r.registerVolumePlugin(createPolicyPlugins({ allowedVolumeOptions: ["size"] }).volume), { authz: false, volumeDriver: { root: join(dir, "vols") } });
    const reply = await call(b, "Create", { Name: "v2", Opts: { foo: "bar" } });
    expect(reply.Err).toBe('plugin "policy" failed in VolumePlugin.preVolumeCreate: policy rule allowedVolumeOptions: volume option "foo" not allowed; allowed options: size');
    expect(await call(b, "List")).toEqual({ Volumes: [] });
  });

  it("keeps the options a plugin changed, and shows the driver name to plugins", async () => {
    const seen: unknown[] = [];
    const b = await bridge(
      (r) => r.registerVolumePlugin({ name: "sizer", preVolumeCreate: (_c, config) => { seen.push({ ...config }); config.DriverOpts = { ...config.DriverOpts, size: "1g" }; } }),
      { authz: false, volumeDriver: { root: join(dir, "vols") }, name: "myvols" },
    );
    await call(b, "Create", { Name: "v3", Opts: { k: "v" } });
    expect(seen).toEqual([{ Name: "v3", Driver: "myvols", DriverOpts: { k: "v" } }]);
    expect(b.volumes?.record("v3")?.options).toEqual({ k: "v", size: "1g" });
  });

  it("keeps its volumes across a restart of the bridge", async () => {
    const root = join(dir, "vols");
    const first = await bridge(() => undefined, { authz: false, volumeDriver: { root } });
    await call(first, "Create", { Name: "keep" });
    await first.close();
    const second = await bridge(() => undefined, { authz: false, volumeDriver: { root } });
    expect(await call(second, "List")).toEqual({ Volumes: [{ Name: "keep", Mountpoint: join(root, "keep") }] });
  });
});

describe("the bridge's lifecycle", () => {
  it("removes its socket when closed", async () => {
    const b = await bridge(() => undefined);
    await b.close();
    expect(existsSync(b.socketPath)).toBe(false);
  });

  it("refuses to start on a socket another bridge serves", async () => {
    await bridge(() => undefined);
    await expect(bridge(() => undefined)).rejects.toThrow(/another process already serves .*p\.sock/);
  });

  it("refuses options that serve nothing, or a bad name", async () => {
    await expect(bridge(() => undefined, { authz: false })).rejects.toBeInstanceOf(DockerBridgeError);
    await expect(bridge(() => undefined, { name: "../x" })).rejects.toThrow(/invalid Docker plugin name/);
  });
});

describe("the bridge's types", () => {
  it("takes a host, a name and the modes; onChange is one of deny, warn, allow", () => {
    expectTypeOf(createDockerBridge).returns.resolves.toEqualTypeOf<DockerBridge>();
    expectTypeOf<DockerBridgeOptions["onChange"]>().toEqualTypeOf<"deny" | "warn" | "allow" | undefined>();
    const host = createHost({ registry: createRegistry() });
    // @ts-expect-error onChange has three modes
    void (() => createDockerBridge({ host, name: "x", authz: true, onChange: "ignore" }));
    // @ts-expect-error the volume driver needs its root folder
    void (() => createDockerBridge({ host, name: "x", volumeDriver: {} }));
  });
});
