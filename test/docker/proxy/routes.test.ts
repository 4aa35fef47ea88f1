/**
 * The Docker API proxy's hook-point routes, each against a fake engine that records what reaches it: what the
 * plugins change goes on to the engine, what they refuse never reaches it, and their notifications run after the
 * engine succeeded.
 */
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PluginHookError, type ContainerCreateConfig } from "hookplugins";
import { wrapperHeaderPrefix } from "hookplugins/runtime";
import { envLimitsPlugin } from "../../../hookplugins/envlimits/index.js";
import { createPolicyPlugins } from "../../../hookplugins/policy/index.js";
import { json, startRouteHarness, type RouteHarness } from "./routeHarness.js";

const id = "c".repeat(64);
let h: RouteHarness;

beforeEach(async () => {
  h = await startRouteHarness({ timeoutMs: 2000 });
  const wrapper = join(h.dir, "wrapper");
  writeFileSync(wrapper, `#!/bin/sh\n${wrapperHeaderPrefix}{}\n`);
  h.on("GET", /^(\/v[\d.]+)?\/info$/, (_r, res) => json(res, 200, { Driver: "overlay2", DefaultRuntime: "hp", Runtimes: { hp: { path: wrapper }, runc: { path: join(h.dir, "runc") } } }));
  writeFileSync(join(h.dir, "runc"), "#!/bin/sh\nexec /usr/bin/runc \"$@\"\n");
  h.on("GET", /^(\/v[\d.]+)?\/containers\/c+\/json$/, (_r, res) =>
    json(res, 200, { Id: id, Config: { Env: ["A=1"] }, HostConfig: { Runtime: "hp" }, GraphDriver: { Name: "overlay2", Data: { MergedDir: "/var/lib/docker/overlay2/x/merged" } }, State: { Pid: 0 } }),
  );
});

afterEach(async () => {
  await h.close();
});

const toEngine = (method: string, path: RegExp) => h.received.filter((r) => r.method === method && path.test(r.url));

describe("POST /containers/create", () => {
  it("sends the plugins' config on to the engine with a correct Content-Length, and the engine's answer back", async () => {
    h.registry.registerContainerPlugin(envLimitsPlugin);
    h.on("POST", /\/containers\/create$/, (_r, res) => json(res, 201, { Id: id, Warnings: [] }));
    const reply = await h.call("POST", "/v1.41/containers/create?name=web", JSON.stringify({ Image: "bb", Env: ["HOOKPLUGINS_MEMORY=64m"] }));
    expect(reply).toMatchObject({ status: 201, body: JSON.stringify({ Id: id, Warnings: [] }) });
    const [sent] = toEngine("POST", /\/containers\/create/);
    expect(sent!.url).toBe("/v1.41/containers/create?name=web");
    const config = JSON.parse(sent!.body.toString("utf8")) as ContainerCreateConfig;
    expect(config.HostConfig?.Memory).toBe(64 * 1024 * 1024);
    expect(config.Env).toEqual([]);
    expect(Number(sent!.headers["content-length"])).toBe(sent!.body.length);
  });

  it("logs each applied change as one line with its JSON pointer and the plugin that made it", async () => {
    h.registry.registerContainerPlugin(envLimitsPlugin);
    h.on("POST", /\/containers\/create$/, (_r, res) => json(res, 201, { Id: id }));
    await h.call("POST", "/containers/create", JSON.stringify({ Image: "bb", Env: ["HOOKPLUGINS_MEMORY=64m"] }));
    expect(h.logs).toEqual([
      'hookplugins docker-proxy: POST /containers/create: changed /Env by envlimits (["HOOKPLUGINS_MEMORY=64m"] -> [])',
      "hookplugins docker-proxy: POST /containers/create: changed /HostConfig/Memory by envlimits (absent -> 67108864)",
    ]);
  });

  it("answers a plugin's refusal with 403 and a message naming the plugin and the hook, and sends nothing to the engine", async () => {
    h.registry.registerContainerPlugin(createPolicyPlugins({ denyPrivileged: true }).container);
    const reply = await h.call("POST", "/containers/create", JSON.stringify({ Image: "bb", HostConfig: { Privileged: true } }));
    expect(reply.status).toBe(403);
    expect(JSON.parse(reply.body)).toEqual({ message: expect.stringMatching(/^plugin "policy" failed in ContainerPlugin\.preCreate: policy rule denyPrivileged/) });
    expect(toEngine("POST", /create/)).toEqual([]);
  });

  it("answers a plugin's time limit with 504 naming the plugin", async () => {
    h.registry.registerContainerPlugin({ name: "slow", timeoutMs: 50, preCreate: () => new Promise<void>(() => {}) });
    const reply = await h.call("POST", "/containers/create", JSON.stringify({ Image: "bb" }));
    expect(reply.status).toBe(504);
    expect(reply.body).toContain('plugin \\"slow\\" timed out in ContainerPlugin.preCreate after 50 ms');
    expect(toEngine("POST", /create/)).toEqual([]);
  });

  it("answers malformed JSON with 400 and sends nothing", async () => {
    const reply = await h.call("POST", "/containers/create", "{ nope");
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body).message).toMatch(/^the body of the container create request is not valid JSON/);
    expect(h.received).toEqual([]);
  });

  it("answers a body over 16 MiB with 413 and sends nothing", async () => {
    const reply = await h.call("POST", "/containers/create", Buffer.alloc(16 * 1024 * 1024 + 1, 0x20));
    expect(reply.status).toBe(413);
    expect(JSON.parse(reply.body).message).toMatch(/more than the 16777216 bytes hookplugins reads; nothing was sent to the engine/);
    expect(h.received).toEqual([]);
  });
});

describe("POST /containers/{id}/start", () => {
  it("runs preStart with the engine's inspect and leaves the hooks as the container's hand-off while the engine starts it", async () => {
    let seenContainer: unknown;
    h.registry.registerContainerPlugin({ name: "hooks", preStart: (_ctx, container) => ((seenContainer = container), [{ priority: 10, path: "/bin/true", args: ["x"] }]) });
    let handoffAtStart: string[] = [];
    h.on("POST", /\/containers\/c+\/start$/, (_r, res) => {
      handoffAtStart = readdirSync(h.handoffDir);
      res.writeHead(204).end();
    });
    const reply = await h.call("POST", `/v1.41/containers/${id}/start`);
    expect(reply.status).toBe(204);
    expect(seenContainer).toMatchObject({ Id: id, HostConfig: { Runtime: "hp" } });
    expect(handoffAtStart).toEqual([`${id}.json`]);
    // the fake engine did not take it, as a runtime wrapper would: the proxy removes it and says the hooks did not run
    expect(readdirSync(h.handoffDir)).toEqual([]);
    expect(h.logs.join("\n")).toMatch(/its runtime did not take the plugins' 1 prestart hook\(s\): they did not run/);
  });

  it("refuses the start when the plugins return hooks and the container's runtime would not run them", async () => {
    h.registry.registerContainerPlugin({ name: "hooks", preStart: () => [{ priority: 1, path: "/bin/true" }] });
    h.on("GET", /\/containers\/d+\/json$/, (_r, res) => json(res, 200, { Id: "d".repeat(64), HostConfig: { Runtime: "runc" } }));
    const reply = await h.call("POST", `/containers/${"d".repeat(64)}/start`);
    expect(reply.status).toBe(409);
    expect(JSON.parse(reply.body).message).toMatch(/its runtime "runc" \(.*\/runc\) would not run them; install the hookplugins runtime wrapper/);
    expect(toEngine("POST", /start/)).toEqual([]);
  });

  it("fails the start with 403 naming the plugin when preStart fails, and starts nothing", async () => {
    h.registry.registerContainerPlugin({ name: "broken", preStart: () => { throw new Error("no network yet"); } });
    const reply = await h.call("POST", `/containers/${id}/start`);
    expect(reply.status).toBe(403);
    expect(JSON.parse(reply.body).message).toBe('plugin "broken" failed in ContainerPlugin.preStart: no network yet');
    expect(toEngine("POST", /start/)).toEqual([]);
    expect(existsSync(h.handoffDir) ? readdirSync(h.handoffDir) : []).toEqual([]);
  });

  it("passes the start of a container the engine does not know on unchanged, with the engine's own answer", async () => {
    h.registry.registerContainerPlugin({ name: "hooks", preStart: () => { throw new Error("must not run"); } });
    const reply = await h.call("POST", "/containers/nope/start");
    expect(reply.status).toBe(404);
    expect(JSON.parse(reply.body).message).toBe("no such thing: /containers/nope/start");
  });
});

describe("POST /containers/{id}/update", () => {
  it("sends the body through the preUpdate chain, then runs postUpdate with the rootfs and env before the client gets the answer", async () => {
    const events: string[] = [];
    h.registry.registerContainerPlugin({
      name: "upd",
      async preUpdate(_ctx, body) {
        let text = "";
        for await (const c of body) text += String(c);
        const { Readable } = await import("node:stream");
        return Readable.from([text.replace('"Memory":1', '"Memory":2')]);
      },
      postUpdate: (_ctx, rootfs, env) => void events.push(`postUpdate ${rootfs} ${env.join(",")}`),
    });
    h.on("POST", /\/update$/, (r, res) => {
      events.push(`engine ${r.body.toString("utf8")}`);
      json(res, 200, { Warnings: [] });
    });
    const reply = await h.call("POST", `/containers/${id}/update`, JSON.stringify({ Memory: 1 }));
    expect(reply.status).toBe(200);
    expect(events).toEqual(['engine {"Memory":2}', "postUpdate /var/lib/docker/overlay2/x/merged A=1"]);
  });

  it("says the engine applied the update when postUpdate fails afterwards", async () => {
    h.registry.registerContainerPlugin({ name: "after", postUpdate: () => { throw new Error("cannot write"); } });
    h.on("POST", /\/update$/, (_r, res) => json(res, 200, { Warnings: [] }));
    const reply = await h.call("POST", `/containers/${id}/update`, "{}");
    expect(reply.status).toBe(500);
    expect(JSON.parse(reply.body).message).toBe('the engine applied the update, but plugin "after" failed in ContainerPlugin.postUpdate: cannot write');
  });

  it("answers an update body over 16 MiB with 413 and sends nothing to the engine", async () => {
    const reply = await h.call("POST", `/containers/${id}/update`, Buffer.alloc(16 * 1024 * 1024 + 1, 0x20));
    expect(reply.status).toBe(413);
    expect(JSON.parse(reply.body).message).toMatch(/more than the 16777216 bytes hookplugins reads; nothing was sent to the engine/);
    expect(h.received).toEqual([]);
  });

  it("does not run postUpdate when the engine refused the update", async () => {
    let ran = false;
    h.registry.registerContainerPlugin({ name: "after", postUpdate: () => void (ran = true) });
    h.on("POST", /\/update$/, (_r, res) => json(res, 409, { message: "cannot update a paused container" }));
    const reply = await h.call("POST", `/containers/${id}/update`, "{}");
    expect(reply.status).toBe(409);
    expect(ran).toBe(false);
  });
});

describe("POST /volumes/create", () => {
  it("sends the plugins' volume config on to the engine", async () => {
    h.registry.registerVolumePlugin({ name: "sized", preVolumeCreate: (_ctx, v) => ({ ...v, DriverOpts: { ...v.DriverOpts, size: "1g" } }) });
    h.on("POST", /\/volumes\/create$/, (r, res) => json(res, 201, JSON.parse(r.body.toString("utf8"))));
    const reply = await h.call("POST", "/volumes/create", JSON.stringify({ Name: "data", Driver: "local" }));
    expect(JSON.parse(reply.body)).toEqual({ Name: "data", Driver: "local", DriverOpts: { size: "1g" } });
  });
  it("logs each change the plugins made to a volume create with its JSON pointer and the plugin", async () => {
    h.registry.registerVolumePlugin({ name: "sized", preVolumeCreate: (_ctx, v) => ({ ...v, DriverOpts: { ...v.DriverOpts, size: "1g" } }) });
    h.on("POST", /\/volumes\/create$/, (_r, res) => json(res, 201, {}));
    await h.call("POST", "/v1.41/volumes/create", JSON.stringify({ Name: "data" }));
    expect(h.logs).toEqual(['hookplugins docker-proxy: POST /v1.41/volumes/create: changed /DriverOpts/size by sized (absent -> \"1g\")']);
  });

  it("answers a volume create body over 16 MiB with 413 and sends nothing to the engine", async () => {
    const reply = await h.call("POST", "/volumes/create", Buffer.alloc(16 * 1024 * 1024 + 1, 0x20));
    expect(reply.status).toBe(413);
    expect(JSON.parse(reply.body).message).toMatch(/more than the 16777216 bytes hookplugins reads; nothing was sent to the engine/);
    expect(h.received).toEqual([]);
  });
});

describe("image pulls and loads", () => {
  const progress = (res: import("node:http").ServerResponse, lines: unknown[]) => {
    res.writeHead(200, { "Content-Type": "application/json" });
    for (const line of lines) res.write(`${JSON.stringify(line)}\r\n`);
    res.end();
  };

  it("streams a pull's progress and runs postPull once with the storage driver and the image's inspect", async () => {
    const pulled: unknown[] = [];
    h.registry.registerImagePlugin({ name: "scan", postPull: (_ctx, snapshotter, image) => void pulled.push([snapshotter, image]) });
    h.on("POST", /\/images\/create$/, (_r, res) => progress(res, [{ status: "Pulling from bb" }, { status: "Status: Downloaded newer image for 127.0.0.1:5000/bb:1" }]));
    h.on("GET", /\/images\/127\.0\.0\.1(:|%3A)5000\/bb(:|%3A)1\/json$/, (_r, res) => json(res, 200, { Id: "sha256:abc", RepoTags: ["127.0.0.1:5000/bb:1"] }));
    const reply = await h.call("POST", "/v1.41/images/create?fromImage=127.0.0.1%3A5000%2Fbb&tag=1");
    expect(reply.status).toBe(200);
    expect(reply.body).toContain("Downloaded newer image");
    expect(pulled).toEqual([["overlay2", { Id: "sha256:abc", RepoTags: ["127.0.0.1:5000/bb:1"] }]]);
  });

  it("runs postPull once per tag a pull of all tags (no tag in the query) reported, each with its own inspect", async () => {
    const pulled: unknown[] = [];
    h.registry.registerImagePlugin({ name: "scan", postPull: (_ctx, _snapshotter, image) => void pulled.push(image) });
    // what dockerd 20.10 streams for `docker pull -a 127.0.0.1:5000/multi`
    h.on("POST", /\/images\/create$/, (_r, res) =>
      progress(res, [
        { status: "Pulling from multi", id: "2" },
        { status: "Digest: sha256:0502" },
        { status: "Pulling from multi", id: "1" },
        { status: "Digest: sha256:0502" },
        { status: "Status: Downloaded newer image for 127.0.0.1:5000/multi" },
      ]),
    );
    h.on("GET", /\/images\/127\.0\.0\.1(:|%3A)5000\/multi(:|%3A)\d\/json$/, (r, res) => json(res, 200, { Id: `sha256:${r.url.split("/").at(-2)!.slice(-1)}`, RepoTags: [decodeURIComponent(r.url.split("/").slice(-3, -1).join("/"))] }));
    const reply = await h.call("POST", "/v1.41/images/create?fromImage=127.0.0.1%3A5000%2Fmulti");
    expect(reply.status).toBe(200);
    expect(reply.body).not.toContain("error");
    expect(pulled).toEqual([
      { Id: "sha256:2", RepoTags: ["127.0.0.1:5000/multi:2"] },
      { Id: "sha256:1", RepoTags: ["127.0.0.1:5000/multi:1"] },
    ]);
  });

  it("runs postPull once per image a load stream reported, with each image's inspect", async () => {
    const pulled: unknown[] = [];
    h.registry.registerImagePlugin({ name: "scan", postPull: (_ctx, _snapshotter, image) => void pulled.push(image) });
    h.on("POST", /\/images\/load$/, (_r, res) => progress(res, [{ stream: "Loaded image: aa:1\n" }, { stream: "Loaded image: bb:2\n" }]));
    h.on("GET", /\/images\/aa(:|%3A)1\/json$/, (_r, res) => json(res, 200, { Id: "sha256:aa" }));
    h.on("GET", /\/images\/bb(:|%3A)2\/json$/, (_r, res) => json(res, 200, { Id: "sha256:bb" }));
    const reply = await h.call("POST", "/images/load", "tar bytes");
    expect(reply.status).toBe(200);
    expect(pulled).toEqual([{ Id: "sha256:aa" }, { Id: "sha256:bb" }]);
  });

  it("passes a pull's first progress line to the client while the engine still holds the rest", async () => {
    let release: (() => void) | undefined;
    h.on("POST", /\/images\/create$/, (_r, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.write(`${JSON.stringify({ status: "Pulling from bb", id: "1" })}\r\n`);
      release = () => res.end(`${JSON.stringify({ status: "Status: Downloaded newer image for bb:1" })}\r\n`);
    });
    h.on("GET", /\/images\/bb(:|%3A)1\/json$/, (_r, res) => json(res, 200, { Id: "sha256:abc" }));
    const res = await h.open("POST", "/v1.41/images/create?fromImage=bb&tag=1");
    let text = "";
    await new Promise<void>((resolve) => res.on("data", (c: Buffer) => ((text += c.toString("utf8")), text.includes("Pulling from bb") && resolve())));
    expect(text).not.toContain("Downloaded newer image");
    expect(release).toBeDefined();
    release!();
    await new Promise((resolve) => res.on("end", resolve));
    expect(text).toContain("Status: Downloaded newer image for bb:1");
  });

  it("does not run postPull when the engine's stream reports an error", async () => {
    let ran = false;
    h.registry.registerImagePlugin({ name: "scan", postPull: () => void (ran = true) });
    h.on("POST", /\/images\/create$/, (_r, res) => progress(res, [{ errorDetail: { message: "manifest unknown" }, error: "manifest unknown" }]));
    await h.call("POST", "/images/create?fromImage=nope&tag=1");
    expect(ran).toBe(false);
  });

  it("adds a postPull failure to the stream as a Docker error message", async () => {
    h.registry.registerImagePlugin({ name: "scan", postPull: () => { throw new Error("vulnerable"); } });
    h.on("POST", /\/images\/load$/, (_r, res) => progress(res, [{ stream: "Loaded image: bb:latest\n" }]));
    h.on("GET", /\/images\/bb(:|%3A)latest\/json$/, (_r, res) => json(res, 200, { Id: "sha256:abc" }));
    const reply = await h.call("POST", "/images/load?quiet=1", "tar bytes");
    const last = JSON.parse(reply.body.trim().split("\n").at(-1)!) as { error: string };
    expect(last.error).toBe('plugin "scan" failed in ImagePlugin.postPull: vulnerable');
  });
});

describe("DELETE /containers/{id}", () => {
  it("removes a hand-off left for the container once the engine removed it", async () => {
    const { writeHandoff } = await import("hookplugins/runtime");
    await writeHandoff(h.handoffDir, { version: 1, id, createdAt: new Date().toISOString(), source: "test", hooks: [] });
    h.on("DELETE", /\/containers\/c+$/, (_r, res) => {
      res.writeHead(204).end();
    });
    expect((await h.call("DELETE", `/containers/${id}?force=1`)).status).toBe(204);
    expect(readdirSync(h.handoffDir)).toEqual([]);
  });
});

describe("APIPlugin routes", () => {
  it("serves a route a plugin added, and a route a plugin wrapped around the catch-all's forwarding", async () => {
    h.registry.registerAPIPlugin({
      name: "extra",
      updateHandler(_ctx, handlers) {
        const forward = handlers.find((spec) => spec.path === "/{path*}")!.handler;
        return [
          ...handlers,
          { method: "GET", path: "/hookplugins/ping", handler: (_req, res) => { res.end("pong"); } },
          {
            method: "GET",
            path: "/containers/json",
            handler: async (req, res, params) => {
              res.setHeader("X-Wrapped", "yes");
              await forward(req, res, params);
            },
          },
        ];
      },
    });
    h.on("GET", /\/containers\/json$/, (_r, res) => json(res, 200, []));
    expect((await h.call("GET", "/v1.41/hookplugins/ping")).body).toBe("pong");
    const wrapped = await h.call("GET", "/v1.41/containers/json?all=1");
    expect(wrapped).toMatchObject({ status: 200, body: "[]" });
    expect(wrapped.headers["x-wrapped"]).toBe("yes");
    expect(toEngine("GET", /containers\/json\?all=1$/)).toHaveLength(1);
  });

  it("runs a plugin's wrapper around the hooked container create: its header reaches the client, the engine gets envlimits' Memory", async () => {
    h.registry.registerContainerPlugin(envLimitsPlugin);
    h.registry.registerAPIPlugin({
      name: "wrapper",
      updateHandler: (_ctx, handlers) =>
        handlers.map((spec) =>
          spec.method === "POST" && spec.path === "/containers/create"
            ? {
                ...spec,
                handler: async (req, res, params) => {
                  res.setHeader("X-Wrapped", "create");
                  await spec.handler(req, res, params);
                },
              }
            : spec,
        ),
    });
    h.on("POST", /\/containers\/create$/, (_r, res) => json(res, 201, { Id: id, Warnings: [] }));
    const reply = await h.call("POST", "/v1.41/containers/create", JSON.stringify({ Image: "bb", Env: ["HOOKPLUGINS_MEMORY=64m"] }));
    expect(reply.status).toBe(201);
    expect(reply.headers["x-wrapped"]).toBe("create");
    const [sent] = toEngine("POST", /\/containers\/create/);
    expect((JSON.parse(sent!.body.toString("utf8")) as ContainerCreateConfig).HostConfig?.Memory).toBe(64 * 1024 * 1024);
  });

  it("leaves every route a plugin did not add or wrap to pass to the engine as it was sent", async () => {
    h.on("GET", /\/containers\/json$/, (r, res) => json(res, 200, { headers: r.headers }));
    const reply = await h.call("GET", "/v1.41/containers/json?all=1", undefined, { "X-Odd": "kept" });
    expect(JSON.parse(reply.body).headers["x-odd"]).toBe("kept");
    expect(h.received.map((r) => r.url)).toEqual(["/v1.41/containers/json?all=1"]);
  });

  it("answers a failing plugin route with 500 and its message", async () => {
    h.registry.registerAPIPlugin({ name: "boom", updateHandler: (_ctx, handlers) => [...handlers, { method: "GET", path: "/boom", handler: () => { throw new Error("kaboom"); } }] });
    const reply = await h.call("GET", "/boom");
    expect(reply.status).toBe(500);
    expect(JSON.parse(reply.body)).toEqual({ message: "kaboom" });
  });
});

it("errors of plugins are PluginHookErrors (sanity of the import)", () => {
  expect(new PluginHookError("p", "ContainerPlugin.preCreate", new Error("x")).message).toContain('plugin "p"');
});
