/**
 * The Docker API proxy (createDockerProxy) with real plugins in front of a real dockerd 20.10, driven by the docker
 * CLI through DOCKER_HOST: envlimits applied for real (inspect and cgroup), the policy's refusal as the CLI prints it,
 * `docker update` through preUpdate, postUpdate writing into the container's root filesystem, a plugin-changed volume
 * option, postPull on a real pull from a local registry and on `docker load`, a route a plugin added, the daemon
 * hooks' order, and the engine's socket mode and group.
 */
import { createHash } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHost, createRegistry, type Host, type ImageInfo, type PluginRegistry } from "hookplugins";
import { createDockerProxy, type DockerProxy } from "hookplugins/docker";
import { envLimitsPlugin } from "../../../hookplugins/envlimits/index.js";
import { createPolicyPlugins } from "../../../hookplugins/policy/index.js";
import { runCommand, type RunResult } from "../../support/engines/processes.js";
import { registrySkipReason, startRegistry, type Registry } from "../../support/engines/registry.js";
import { describeWithTools, requireTools, toolPath } from "../../support/tools.js";
import { findOnPath, startDockerd, type Dockerd } from "../dockerd.js";

let d: Dockerd;
let registry: Registry;
let plugins: PluginRegistry;
let host: Host;
let proxy: DockerProxy;
let socket: string;
const events: string[] = [];
const pulled: { snapshotter: string; image: ImageInfo }[] = [];
const logs: string[] = [];
const name = (what: string): string => `${what}-${process.pid}`;

/** The docker CLI through the proxy; `input` is a file given as its stdin (closed at its end). */
function docker(args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  const env = { PATH: process.env["PATH"], HOME: d.dir, DOCKER_CONFIG: join(d.dir, "cli"), DOCKER_HOST: `unix://${socket}` };
  if (!options.input) return runCommand(findOnPath("docker")!, args, env, options.timeoutMs ?? 60_000);
  return runCommand("/bin/sh", ["-c", 'exec "$0" "$@" < "$HP_INPUT"', findOnPath("docker")!, ...args], { ...env, HP_INPUT: options.input }, options.timeoutMs ?? 60_000);
}

function get(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request({ socketPath: socket, path }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString("utf8")));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on("error", reject)
      .end();
  });
}

describeWithTools(["root", "dockerd", "docker", "runc", "busybox"], "the Docker API proxy in front of a real dockerd", () => {
  beforeAll(async () => {
    d = await startDockerd();
    if (registrySkipReason() === undefined) registry = await startRegistry();
    plugins = createRegistry();
    plugins.registerContainerPlugin(envLimitsPlugin);
    const policy = createPolicyPlugins({ denyPrivileged: true });
    plugins.registerContainerPlugin(policy.container);
    plugins.registerContainerPlugin({
      name: "updates",
      async preUpdate(_ctx, body) {
        let text = "";
        for await (const chunk of body) text += String(chunk);
        const update = JSON.parse(text) as { CpuShares?: number };
        if (update.CpuShares === 100) update.CpuShares = 512;
        return Readable.from([JSON.stringify(update)]);
      },
      async postUpdate(_ctx, rootfs, env) {
        await writeFile(join(rootfs, "tmp", "updated"), `${env.filter((e) => e.startsWith("ROLE=")).join(",")}\n`);
      },
    });
    plugins.registerVolumePlugin({ name: "tmpfs-volumes", preVolumeCreate: (_ctx, v) => ({ ...v, DriverOpts: { type: "tmpfs", device: "tmpfs", o: "size=1m", ...v.DriverOpts } }) });
    plugins.registerImagePlugin({ name: "scanner", postPull: (_ctx, snapshotter, image) => void pulled.push({ snapshotter, image }) });
    plugins.registerAPIPlugin({ name: "status", updateHandler: (_ctx, handlers) => [...handlers, { method: "GET", path: "/hookplugins/status", handler: (_req, res) => void res.end('{"ok":true}') }] });
    for (const n of ["first", "second"]) {
      plugins.registerDaemonPlugin({ name: n, priority: n === "first" ? 10 : 0, preStartHook: () => void events.push(`start ${n}`), preStopHook: () => void events.push(`stop ${n}`) });
    }
    host = createHost({ registry: plugins, timeoutMs: 5000 });
    socket = join(d.dir, "proxy.sock");
    proxy = await createDockerProxy({ host, listen: socket, upstream: `unix://${d.socketPath}`, handoffDir: join(d.dir, "handoff"), log: (line) => logs.push(line) });
  }, 120_000);

  afterAll(async () => {
    await proxy?.close({ graceMs: 2000 });
    await host?.close();
    await registry?.stop();
    await d?.stop();
  }, 120_000);

  it("ran the daemon plugins' start hooks in priority order before it listened", () => {
    expect(events).toEqual(["start first", "start second"]);
  });

  it("creates its socket with the engine socket's group and mode 0660, or 0600", () => {
    const engine = statSync(d.socketPath);
    const own = statSync(socket);
    if ((engine.mode & 0o020) !== 0) expect({ mode: own.mode & 0o777, gid: own.gid }).toEqual({ mode: 0o660, gid: engine.gid });
    else expect(own.mode & 0o777).toBe(0o600);
  });

  it("applies envlimits: docker inspect and the container's own cgroup show the memory limit", async () => {
    const run = await docker(["run", "-d", "--name", name("limited"), "--network", "none", "-e", "HOOKPLUGINS_MEMORY=64m", "bb", "sleep", "60"]);
    expect(run.stderr).toBe("");
    expect((await docker(["inspect", "-f", "{{.HostConfig.Memory}} {{json .Config.Env}}", name("limited")])).stdout.trim()).toMatch(/^67108864 /);
    expect((await docker(["inspect", "-f", "{{json .Config.Env}}", name("limited")])).stdout).not.toContain("HOOKPLUGINS_MEMORY");
    const cgroup = await docker(["exec", name("limited"), "sh", "-c", "cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes"]);
    expect(cgroup.stdout.trim()).toBe("67108864");
    expect(logs.some((line) => /changed \/HostConfig\/Memory by envlimits \(.* -> 67108864\)/.test(line))).toBe(true);
  });

  it("prints the policy plugin's refusal as dockerd's own errors, and creates nothing", async () => {
    const before = (await docker(["ps", "-aq"])).stdout;
    const run = await docker(["run", "--rm", "--privileged", "bb", "true"]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(
      'docker: Error response from daemon: plugin "policy" failed in ContainerPlugin.preCreate: policy rule denyPrivileged: privileged containers are not allowed; run it without --privileged (HostConfig.Privileged)',
    );
    expect((await docker(["ps", "-aq"])).stdout).toBe(before);
  });

  it("sends docker update through preUpdate, then postUpdate writes under the container's real root filesystem", async () => {
    expect((await docker(["run", "-d", "--name", name("updated"), "--network", "none", "-e", "ROLE=web", "bb", "sleep", "60"])).stderr).toBe("");
    const update = await docker(["update", "--cpu-shares", "100", name("updated")]);
    expect(update.stderr).toBe("");
    expect((await docker(["inspect", "-f", "{{.HostConfig.CpuShares}}", name("updated")])).stdout.trim()).toBe("512");
    expect((await docker(["exec", name("updated"), "cat", "/tmp/updated"])).stdout).toBe("ROLE=web\n");
  });

  it("sends a volume create with the options a plugin added", async () => {
    expect((await docker(["volume", "create", name("vol")])).stderr).toBe("");
    const options = JSON.parse((await docker(["volume", "inspect", "-f", "{{json .Options}}", name("vol")])).stdout) as Record<string, string>;
    expect(options).toEqual({ type: "tmpfs", device: "tmpfs", o: "size=1m" });
  });

  it("runs postPull once for a real pull from a local registry, with the storage driver and the image's inspect", async (ctx) => {
    requireTools(ctx, "docker-registry");
    // push straight to dockerd (no postPull), remove, then pull through the proxy
    const reference = `${registry.address}/bb:proxy`;
    for (const args of [["tag", "bb", reference], ["push", reference], ["rmi", reference]]) expect((await d.docker(args, { timeoutMs: 60_000 })).code).toBe(0);
    pulled.length = 0;
    const pull = await docker(["pull", reference]);
    expect(pull.stderr).toBe("");
    expect(pulled).toHaveLength(1);
    expect(pulled[0]!.snapshotter).toBe("vfs");
    expect(pulled[0]!.image.RepoTags).toContain(reference);
  });

  it("runs postPull once per tag for a real docker pull -a from a local registry, and adds no error to it", async (ctx) => {
    requireTools(ctx, "docker-registry");
    // two different images (bb, and a one-file import), pushed straight to dockerd and removed, then pulled through the proxy
    const repository = `${registry.address}/multi`;
    const files = join(d.dir, "multi-rootfs");
    await mkdir(files, { recursive: true });
    await writeFile(join(files, "two"), "2\n");
    const imported = await runCommand("/bin/sh", ["-c", `tar -C '${files}' -c . | docker import - ${repository}:2`], { ...process.env, DOCKER_HOST: `unix://${d.socketPath}` }, 60_000);
    expect(imported.code).toBe(0);
    expect((await d.docker(["tag", "bb", `${repository}:1`])).code).toBe(0);
    for (const tag of ["1", "2"]) {
      for (const args of [["push", `${repository}:${tag}`], ["rmi", `${repository}:${tag}`]]) expect((await d.docker(args, { timeoutMs: 60_000 })).code).toBe(0);
    }
    pulled.length = 0;
    const pull = await docker(["pull", "-a", repository]);
    expect({ code: pull.code, stderr: pull.stderr }).toEqual({ code: 0, stderr: "" });
    expect(pulled.flatMap((p) => (p.image.RepoTags ?? []).filter((t) => t.startsWith(`${repository}:`))).sort()).toEqual([`${repository}:1`, `${repository}:2`]);
  });

  it("runs postPull once for docker load, with the image it loaded", async () => {
    const archive = join(d.dir, "bb.tar");
    expect((await d.docker(["tag", "bb", name("loadme")])).code).toBe(0);
    expect((await d.docker(["save", "-o", archive, name("loadme")])).code).toBe(0);
    expect((await d.docker(["rmi", name("loadme")])).code).toBe(0);
    pulled.length = 0;
    const load = await docker(["load", "-i", archive]);
    expect(load.stdout).toContain(`Loaded image: ${name("loadme")}:latest`);
    expect(pulled).toHaveLength(1);
    expect(pulled[0]!.image.RepoTags).toContain(`${name("loadme")}:latest`);
  });

  it("serves a route a plugin added", async () => {
    expect(await get("/v1.41/hookplugins/status")).toEqual({ status: 200, body: '{"ok":true}' });
  });

  it("passes docker save through byte for byte", async () => {
    const direct = join(d.dir, "direct.tar");
    const proxied = join(d.dir, "proxied.tar");
    expect((await d.docker(["save", "-o", direct, "bb"])).code).toBe(0);
    expect((await docker(["save", "-o", proxied, "bb"])).code).toBe(0);
    const hash = async (f: string): Promise<string> => createHash("sha256").update(await readFile(f)).digest("hex");
    expect(await hash(proxied)).toBe(await hash(direct));
  });

  it("keeps attach and exec streams working on the hooked create and start: run -i with stdin closed, exec without -i", async () => {
    const input = join(d.dir, "input.txt");
    await writeFile(input, "through the proxy\n");
    const echoed = await docker(["run", "--rm", "-i", "--network", "none", "bb", "cat"], { input });
    expect(echoed).toMatchObject({ code: 0, stdout: "through the proxy\n" });
    const exec = await docker(["exec", name("limited"), "echo", "from exec"]);
    expect(exec.stdout).toBe("from exec\n");
  });

  it("serves Debian's docker CLI 20.10 as well: create with envlimits, and the policy's refusal", async (ctx) => {
    requireTools(ctx, "docker-20.10");
    const env = { PATH: process.env["PATH"], HOME: d.dir, DOCKER_CONFIG: join(d.dir, "cli"), DOCKER_HOST: `unix://${socket}` };
    const created = await runCommand(toolPath("docker-20.10"), ["create", "--name", name("cli2010"), "-e", "HOOKPLUGINS_MEMORY=32m", "bb", "true"], env, 60_000);
    expect(created.stderr).toBe("");
    expect((await docker(["inspect", "-f", "{{.HostConfig.Memory}}", name("cli2010")])).stdout.trim()).toBe(String(32 * 1024 * 1024));
    const refused = await runCommand(toolPath("docker-20.10"), ["create", "--privileged", "bb", "true"], env, 60_000);
    expect(refused.stderr).toContain('Error response from daemon: plugin "policy" failed in ContainerPlugin.preCreate');
  });

  it("streams a 200 MB docker load through its hooked route byte-exact, with postPull once", async () => {
    const rootfs = join(d.dir, "big-rootfs");
    await mkdir(join(rootfs, "data"), { recursive: true });
    const big = await runCommand("/bin/sh", ["-c", `head -c 209715200 /dev/urandom > '${join(rootfs, "data", "blob")}' && tar -C '${rootfs}' -c . | docker import - ${name("big")}:1`], { ...process.env, DOCKER_HOST: `unix://${d.socketPath}` }, 120_000);
    expect(big.code).toBe(0);
    const archive = join(d.dir, "big.tar");
    expect((await d.docker(["save", "-o", archive, `${name("big")}:1`], { timeoutMs: 120_000 })).code).toBe(0);
    expect((await d.docker(["rmi", `${name("big")}:1`], { timeoutMs: 60_000 })).code).toBe(0);
    pulled.length = 0;
    const load = await docker(["load", "-i", archive], { timeoutMs: 180_000 });
    expect(load.stdout).toContain(`Loaded image: ${name("big")}:1`);
    expect(pulled).toHaveLength(1);
    const again = join(d.dir, "big-again.tar");
    expect((await docker(["save", "-o", again, `${name("big")}:1`], { timeoutMs: 120_000 })).code).toBe(0);
    const hash = async (f: string): Promise<string> => createHash("sha256").update(await readFile(f)).digest("hex");
    expect(await hash(again)).toBe(await hash(archive));
    await d.docker(["rmi", `${name("big")}:1`]);
  }, 300_000);

  it("answers with the engine's socket named when the engine is not there, and keeps serving", async () => {
    const dead = await createDockerProxy({ host, listen: join(d.dir, "dead.sock"), upstream: `unix://${join(d.dir, "nothing.sock")}`, daemonHooks: false, handoffDir: join(d.dir, "handoff") });
    try {
      const env = { PATH: process.env["PATH"], HOME: d.dir, DOCKER_CONFIG: join(d.dir, "cli"), DOCKER_HOST: `unix://${join(d.dir, "dead.sock")}` };
      const first = await runCommand(findOnPath("docker")!, ["ps"], env, 30_000);
      expect(first.stderr).toContain(`cannot reach the engine at unix://${join(d.dir, "nothing.sock")}`);
      const second = await runCommand(findOnPath("docker")!, ["ps"], env, 30_000);
      expect(second.stderr).toContain("cannot reach the engine");
    } finally {
      await dead.close();
    }
  });

  it("runs the daemon plugins' stop hooks in reverse order once closed, and removes its socket", async () => {
    await proxy.close({ graceMs: 2000 });
    expect(events).toEqual(["start first", "start second", "stop second", "stop first"]);
    expect(existsSync(socket)).toBe(false);
  });
});
