import { afterAll, beforeAll, expect, it } from "vitest";
import { itWithDocker, startTestDaemon, type TestDaemon } from "./helpers.js";

let d: TestDaemon;
beforeAll(async () => {
  d = await startTestDaemon(
    (registry) => {
      registry.registerContainerPlugin({
        name: "picky",
        preCreate: (_ctx, config) => {
          if (config.Env?.includes("EXPLODE=1")) throw new Error("EXPLODE is not allowed");
        },
      });
    },
    { dryRun: true },
  );
});
afterAll(async () => {
  await d.close();
});

it("malformed JSON in a create request is a 400 with a JSON message", async () => {
  const r = await d.api("POST", "/v1.47/containers/create", "{not json");
  expect(r.status).toBe(400);
  expect(r.headers["content-type"]).toBe("application/json");
  expect((r.json as { message: string }).message).toMatch(/malformed JSON/);
});

it("an unknown container is a 404 'No such container' for inspect, start, wait, logs and delete", async () => {
  const calls: Array<[string, string]> = [
    ["GET", "/v1.47/containers/ghost/json"],
    ["POST", "/v1.47/containers/ghost/start"],
    ["POST", "/v1.47/containers/ghost/wait"],
    ["GET", "/v1.47/containers/ghost/logs?stdout=1"],
    ["DELETE", "/v1.47/containers/ghost"],
  ];
  for (const [method, path] of calls) {
    const r = await d.api(method, path);
    expect({ method, path, status: r.status, json: r.json }).toEqual({ method, path, status: 404, json: { message: "No such container: ghost" } });
  }
});

itWithDocker("the docker CLI prints the daemon's message for an unknown container", async () => {
  const r = await d.docker("start", "ghost");
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain("No such container: ghost");
});

it("an unknown route is a 404 JSON error", async () => {
  const r = await d.api("GET", "/v1.47/no/such/route");
  expect(r.status).toBe(404);
  expect(r.json).toEqual({ message: "page not found" });
});

it("a known route called with the wrong method is a 405 JSON error", async () => {
  const r = await d.api("GET", "/v1.47/containers/create");
  expect(r.status).toBe(405);
  expect((r.json as { message: string }).message).toContain("GET");
});

it("a container name already in use is a 409 conflict", async () => {
  const body = JSON.stringify({ Image: "busybox", Cmd: ["true"] });
  expect((await d.api("POST", "/v1.47/containers/create?name=twin", body)).status).toBe(201);
  const r = await d.api("POST", "/v1.47/containers/create?name=twin", body);
  expect(r.status).toBe(409);
  expect((r.json as { message: string }).message).toContain('The container name "/twin" is already in use');
});

it("an unknown image is a 404 'No such image'", async () => {
  const r = await d.api("POST", "/v1.47/containers/create", JSON.stringify({ Image: "nothere:1" }));
  expect(r.status).toBe(404);
  expect(r.json).toEqual({ message: "No such image: nothere:1" });
});

it("an API version newer than minid's is a 400", async () => {
  const r = await d.api("GET", "/v1.99/version");
  expect(r.status).toBe(400);
  expect((r.json as { message: string }).message).toContain("Maximum supported API version is 1.47");
});

it("a plugin failure is a 500 whose message names the plugin and the hook, and the daemon keeps serving", async () => {
  const r = await d.api("POST", "/v1.47/containers/create", JSON.stringify({ Image: "busybox", Env: ["EXPLODE=1"] }));
  expect(r.status).toBe(500);
  const message = (r.json as { message: string }).message;
  expect(message).toContain('"picky"');
  expect(message).toContain("ContainerPlugin.preCreate");
  expect(message).toContain("EXPLODE is not allowed");
  expect((await d.api("GET", "/_ping")).status).toBe(200);
  expect((await d.api("POST", "/v1.47/containers/create", JSON.stringify({ Image: "busybox" }))).status).toBe(201);
});

itWithDocker("the docker CLI shows the plugin failure message", async () => {
  const r = await d.docker("create", "-e", "EXPLODE=1", "busybox");
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(/plugin "picky" failed in ContainerPlugin\.preCreate: EXPLODE is not allowed/);
});
