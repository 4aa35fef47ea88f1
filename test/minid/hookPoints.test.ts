import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import type { ContainerJSON, HandlerSpec, ImageInfo } from "hookplugins";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleDir, itWithDocker, startTestDaemon, type TestDaemon } from "./helpers.js";

const seen = {
  daemon: [] as string[],
  endpoint: [] as Array<{ id: string; env: readonly string[] }>,
  preStart: [] as ContainerJSON[],
  rawUpdate: [] as string[],
  postUpdate: [] as Array<{ rootfs: string; env: readonly string[] }>,
  postPull: [] as Array<{ snapshotter: string; image: ImageInfo }>,
};

let d: TestDaemon;
beforeAll(async () => {
  d = await startTestDaemon(
    (registry) => {
      registry.registerDaemonPlugin({
        name: "lifecycle",
        preStartHook: () => void seen.daemon.push("preStartHook"),
        preStopHook: () => void seen.daemon.push("preStopHook"),
      });
      registry.registerContainerPlugin({
        name: "labeller",
        preCreate: (_ctx, config) => {
          config.Labels = { ...config.Labels, "minid.test/seen": "yes" };
        },
        preCreateEndpoint: (_ctx, id, env, endpoint) => {
          seen.endpoint.push({ id, env });
          return { ...endpoint, Name: "plugnet", Hostname: "from-plugin" };
        },
        preStart: (_ctx, container) => void seen.preStart.push(container),
        preUpdate: async (_ctx, body) => {
          let text = "";
          for await (const chunk of body) text += String(chunk);
          seen.rawUpdate.push(text);
          return Readable.from([text.replace('"CpuShares":100', '"CpuShares":300')]);
        },
        postUpdate: (_ctx, rootfs, env) => void seen.postUpdate.push({ rootfs, env }),
      });
      registry.registerImagePlugin({
        name: "pull-watcher",
        postPull: (_ctx, snapshotter, image) => void seen.postPull.push({ snapshotter, image }),
      });
      registry.registerAPIPlugin({
        name: "extra-routes",
        updateHandler: (_ctx, handlers: HandlerSpec[]) => {
          const version = handlers.find((h) => h.method === "GET" && h.path === "/version");
          if (version) {
            const inner = version.handler;
            version.handler = (req, res, params) => {
              res.setHeader("X-Wrapped-By", "extra-routes");
              return inner(req, res, params);
            };
          }
          return [
            ...handlers,
            { method: "GET", path: "/minid/hello/{who}", handler: (_req, res, params) => void res.end(`hello ${params.who}`) },
          ];
        },
      });
    },
    { dryRun: true },
  );
});
afterAll(async () => {
  await d.close();
});

async function create(body: Record<string, unknown>): Promise<string> {
  const r = await d.api("POST", "/v1.47/containers/create", JSON.stringify({ Image: "busybox", Cmd: ["true"], ...body }));
  expect(r.status).toBe(201);
  return (r.json as { Id: string }).Id;
}

async function inspect(id: string): Promise<Record<string, any>> {
  return (await d.api("GET", `/v1.47/containers/${id}/json`)).json as Record<string, any>;
}

describe("hook points minid runs", () => {
  it("DaemonPlugin.preStartHook ran before the daemon served its first request", () => {
    expect(seen.daemon).toEqual(["preStartHook"]);
  });

  itWithDocker("ContainerPlugin.preCreate changes the config that docker inspect then shows", async () => {
    const id = (await d.docker("create", "busybox", "true")).stdout.trim();
    const r = await d.docker("inspect", "-f", '{{index .Config.Labels "minid.test/seen"}}', id);
    expect(r.stdout.trim()).toBe("yes");
  });

  it("ContainerPlugin.preCreateEndpoint gets the new container's id and env, and its endpoint is used", async () => {
    const id = await create({ Env: ["ROLE=web"] });
    expect(seen.endpoint.at(-1)).toEqual({ id, env: ["ROLE=web"] });
    expect(Object.keys((await inspect(id)).NetworkSettings.Networks)).toEqual(["plugnet"]);
    await d.api("POST", `/v1.47/containers/${id}/start`);
    const config = JSON.parse(await readFile(join(bundleDir(d.stateDir, id), "config.json"), "utf8")) as { hostname: string };
    expect(config.hostname).toBe("from-plugin");
  });

  it("ContainerPlugin.preStart receives the container as docker inspect shows it", async () => {
    const id = await create({});
    expect((await d.api("POST", `/v1.47/containers/${id}/start`)).status).toBe(204);
    expect(seen.preStart.at(-1)).toMatchObject({ Id: id, State: { Status: "created" }, Config: { Cmd: ["true"] } });
  });

  it("ContainerPlugin.preUpdate sees the raw update body before it is parsed and can rewrite it", async () => {
    const id = await create({});
    const body = '{"CpuShares":100,"Memory":33554432}';
    const r = await d.api("POST", `/v1.47/containers/${id}/update`, body);
    expect(r.status).toBe(200);
    expect(seen.rawUpdate.at(-1)).toBe(body);
    expect((await inspect(id)).HostConfig).toMatchObject({ CpuShares: 300, Memory: 33554432 });
  });

  it("ContainerPlugin.postUpdate runs after an update with the container's rootfs and env", async () => {
    const id = await create({ Env: ["TIER=db"] });
    await d.api("POST", `/v1.47/containers/${id}/update`, '{"Memory":67108864}');
    expect(seen.postUpdate.at(-1)).toEqual({ rootfs: join(bundleDir(d.stateDir, id), "rootfs"), env: ["TIER=db"] });
  });

  itWithDocker("ImagePlugin.postPull runs when docker import stores a root filesystem archive, which then runs containers", async () => {
    const busyboxRootfs = d.daemon.context.images.resolve("busybox")?.rootfs ?? "";
    const archive = join(d.stateDir, "rootfs.tar");
    execFileSync("tar", ["-C", busyboxRootfs, "-cf", archive, "."]);
    const r = await d.docker("import", archive, "imported:v1");
    expect(r.code).toBe(0);
    expect(seen.postPull.at(-1)).toMatchObject({ snapshotter: "minid-copy", image: { RepoTags: ["imported:v1"] } });
    expect((await d.docker("create", "imported:v1", "true")).code).toBe(0);
  });

  it("APIPlugin.updateHandler can add a route the daemon serves", async () => {
    const r = await d.api("GET", "/v1.47/minid/hello/world");
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe("hello world");
  });

  it("APIPlugin.updateHandler can wrap an existing route", async () => {
    const r = await d.api("GET", "/version");
    expect(r.status).toBe(200);
    expect(r.headers["x-wrapped-by"]).toBe("extra-routes");
  });

  itWithDocker("VolumePlugin.preVolumeCreate can change the volume before it is created", async () => {
    d.registry.registerVolumePlugin({
      name: "volume-labeller",
      preVolumeCreate: (_ctx, config) => ({ ...config, Labels: { ...config.Labels, stamped: "1" } }),
    });
    const r = await d.docker("volume", "create", "stamped-vol");
    expect(r.code).toBe(0);
    expect(((await d.api("GET", "/volumes/stamped-vol")).json as { Labels: Record<string, string> }).Labels).toEqual({ stamped: "1" });
  });

  it("DaemonPlugin.preStopHook runs when the daemon stops", async () => {
    await d.daemon.stop();
    expect(seen.daemon).toEqual(["preStartHook", "preStopHook"]);
  });
});
