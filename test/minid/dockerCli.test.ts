import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeWithTools } from "../support/tools.js";
import { itRunningContainers, startTestDaemon, type TestDaemon } from "./helpers.js";

let d: TestDaemon;
beforeAll(async () => {
  d = await startTestDaemon();
});
afterAll(async () => {
  await d.close();
});

describeWithTools(["docker"], "minid driven by the real docker CLI", () => {
  it("docker version shows minid's engine with the API version the CLI negotiated", async () => {
    const r = await d.docker("version", "--format", "{{.Server.Version}} {{.Server.APIVersion}} {{.Client.APIVersion}}");
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe("0.1.0 1.47 1.47");
  });

  itRunningContainers("docker create, start and wait run busybox under runc and return the exit code", async () => {
    const create = await d.docker("create", "--name", "exit7", "busybox", "sh", "-c", "exit 7");
    expect(create.code).toBe(0);
    expect(create.stdout.trim()).toMatch(/^[0-9a-f]{64}$/);
    expect((await d.docker("start", "exit7")).code).toBe(0);
    const wait = await d.docker("wait", "exit7");
    expect(wait.stdout.trim()).toBe("7");
  });

  itRunningContainers("docker logs returns what the container wrote, stdout and stderr on their own streams", async () => {
    await d.docker("create", "--name", "talker", "busybox", "sh", "-c", "echo out-line; echo err-line >&2");
    await d.docker("start", "talker");
    await d.docker("wait", "talker");
    const logs = await d.docker("logs", "talker");
    expect(logs.code).toBe(0);
    expect(logs.stdout).toBe("out-line\n");
    expect(logs.stderr).toBe("err-line\n");
  });

  itRunningContainers("docker inspect reports the container's name, command and exited state", async () => {
    await d.docker("create", "--name", "inspected", "-e", "GREETING=hi", "busybox", "true");
    await d.docker("start", "inspected");
    await d.docker("wait", "inspected");
    const r = await d.docker("inspect", "inspected");
    expect(r.code).toBe(0);
    const [info] = JSON.parse(r.stdout) as Array<Record<string, any>>;
    expect(info?.Name).toBe("/inspected");
    expect(info?.Path).toBe("true");
    expect(info?.Config.Env).toContain("GREETING=hi");
    expect(info?.State).toMatchObject({ Status: "exited", Running: false, ExitCode: 0 });
  });

  itRunningContainers("docker inspect shows a running container as running with its pid", async () => {
    await d.docker("create", "--name", "sleeper", "busybox", "sleep", "30");
    await d.docker("start", "sleeper");
    const r = await d.docker("inspect", "-f", "{{.State.Status}} {{.State.Pid}}", "sleeper");
    const [status, pid] = r.stdout.trim().split(" ");
    expect(status).toBe("running");
    expect(Number(pid)).toBeGreaterThan(0);
    await d.docker("rm", "-f", "sleeper");
  });

  itRunningContainers("docker rm refuses a running container and docker rm -f kills and removes it", async () => {
    await d.docker("create", "--name", "busy", "busybox", "sleep", "30");
    await d.docker("start", "busy");
    const refused = await d.docker("rm", "busy");
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("container is running");
    const forced = await d.docker("rm", "-f", "busy");
    expect(forced.code).toBe(0);
    expect((await d.docker("inspect", "busy")).code).not.toBe(0);
  });

  it("docker rm removes a created container so that docker inspect no longer finds it", async () => {
    await d.docker("create", "--name", "short-lived", "busybox", "true");
    expect((await d.docker("rm", "short-lived")).code).toBe(0);
    const r = await d.docker("inspect", "short-lived");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("No such object: short-lived");
  });

  it("docker commands find a container by a prefix of its id", async () => {
    const id = (await d.docker("create", "busybox", "true")).stdout.trim();
    const r = await d.docker("inspect", "-f", "{{.Id}}", id.slice(0, 10));
    expect(r.stdout.trim()).toBe(id);
    await d.docker("rm", id.slice(0, 10));
  });

  it("docker volume create makes a local volume with a mountpoint under the state dir", async () => {
    const r = await d.docker("volume", "create", "--label", "team=minid", "data1");
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe("data1");
    const inspect = await d.api("GET", "/v1.47/volumes/data1");
    expect(inspect.json).toMatchObject({ Name: "data1", Driver: "local", Labels: { team: "minid" }, Mountpoint: join(d.stateDir, "volumes", "data1", "_data") });
  });

  itRunningContainers("a container writes into a named volume and the file appears in the volume's mountpoint", async () => {
    await d.docker("volume", "create", "shared");
    await d.docker("create", "--name", "writer", "-v", "shared:/data", "busybox", "sh", "-c", "echo kept > /data/note");
    await d.docker("start", "writer");
    expect((await d.docker("wait", "writer")).stdout.trim()).toBe("0");
    expect(await readFile(join(d.stateDir, "volumes", "shared", "_data", "note"), "utf8")).toBe("kept\n");
  });
});
