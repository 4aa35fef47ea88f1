/**
 * The Podman harness (startPodmanService): Podman 4.3's Docker-compatible service on a private socket, driven by the
 * docker CLI: it answers, runs containers from the imported bb image, pulls from the local registry (an insecure
 * one, through its registries.conf), runs containers through a given OCI runtime, and stop() leaves nothing behind.
 */
import { existsSync, readdirSync } from "node:fs";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { podmanFixedPaths, podmanTools, startPodmanService, type PodmanService } from "./podman.js";
import { cgroupRoots, isAlive, leftOutside, leftoversOf, noteOutside, privateDir, removeRunFolder, type OutsidePath } from "./processes.js";
import { pushBusybox, startRegistry, type Registry } from "./registry.js";
import { describeWithTools, findTool } from "../tools.js";

/** Where Podman as root keeps its state when not told otherwise: the harness must never touch any of them. */
const systemPodmanPaths = [
  "/run/containers",
  "/run/libpod",
  "/run/user/0",
  "/tmp/podman-run-0",
  "/dev/shm/libpod_lock",
  "/var/lib/containers/storage",
  "/etc/cni/net.d/cni.lock",
  "/etc/containers/networks",
].map((path) => ({ path, kind: "file" as const }));

describeWithTools([...podmanTools, "docker-registry"], "startPodmanService: Podman's Docker API on a private socket", () => {
  let registry: Registry;
  let p: PodmanService;
  let outside: OutsidePath[];
  let systemPaths: OutsidePath[];

  beforeAll(async () => {
    outside = noteOutside(podmanFixedPaths);
    systemPaths = noteOutside(systemPodmanPaths);
    registry = await startRegistry();
    p = await startPodmanService({ insecureRegistries: [registry.address] });
  }, 120_000);

  afterAll(async () => {
    await p?.stop();
    await registry?.stop();
  }, 120_000);

  it("answers the docker CLI, which negotiates Docker API 1.41 with it", async () => {
    const clis = [...new Set([findTool("docker")!, "/usr/bin/docker"].filter((cli) => existsSync(cli)))];
    for (const binary of clis) {
      const r = await p.docker(["version", "--format", "{{.Client.APIVersion}} {{.Server.APIVersion}} {{.Server.Version}}"], { binary });
      expect(r.stderr).toBe("");
      expect(r.stdout.trim()).toMatch(/^1\.41 1\.41 4\.\d+\.\d+$/);
    }
  });

  it("runs a container from the bb image through the docker CLI", async () => {
    const r = await p.docker(["run", "--rm", "bb", "echo", "hello from podman"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("hello from podman\n");
  });

  it("gives a container the docker CLI starts a network namespace with loopback only", async () => {
    const r = await p.docker(["run", "--rm", "bb", "ip", "-o", "link"]);
    expect(r.stderr).toBe("");
    expect(r.stdout.trim().split("\n").map((line) => line.split(":")[1]?.trim())).toEqual(["lo"]);
  });

  it("runs containers with the default ulimits of its containers.conf", async () => {
    const r = await p.docker(["run", "--rm", "bb", "sh", "-c", "ulimit -n; ulimit -u"]);
    expect(r.stdout).toBe("1024\n4096\n");
  });

  it("sees with the podman CLI the containers the docker CLI made", async () => {
    const id = (await p.docker(["create", "--name", "made-by-docker", "bb", "true"])).stdout.trim();
    const r = await p.podman(["ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Names}}"]);
    expect(r.stdout).toContain(`${id} made-by-docker`);
  });

  it("pushes bb to the registry, pulls it back after docker rmi, and runs it", async () => {
    const reference = await pushBusybox(p, registry);
    expect(reference).toBe(`${registry.address}/bb:1`);
    expect((await p.docker(["rmi", reference])).code).toBe(0);
    expect((await p.docker(["image", "inspect", reference])).code).not.toBe(0);
    const pulled = await p.docker(["pull", reference], { timeoutMs: 60_000 });
    expect(pulled.stderr).toBe("");
    expect(pulled.code).toBe(0);
    const r = await p.docker(["run", "--rm", reference, "echo", "pulled"]);
    expect(r.stdout).toBe("pulled\n");
  });

  it("runs containers through the OCI runtime given as runtimePath, which gets runc's arguments", async () => {
    const work = await privateDir("hppw-");
    const wrapper = join(work, "runtime-wrapper");
    await writeFile(wrapper, `#!/bin/sh\necho "$*" >> ${join(work, "calls.log")}\nexec ${findTool("runc")} "$@"\n`);
    await chmod(wrapper, 0o755);
    const q = await startPodmanService({ runtimePath: wrapper });
    try {
      const r = await q.docker(["run", "--rm", "bb", "echo", "wrapped"]);
      expect(r.stdout).toBe("wrapped\n");
      const calls = (await readFile(join(work, "calls.log"), "utf8")).split("\n");
      expect(calls.some((call) => /^--log-format=json --log \S+ create --bundle \S+ --pid-file \S+ [0-9a-f]{64}$/.test(call))).toBe(true);
      expect(calls.some((call) => /^start [0-9a-f]{64}$/.test(call))).toBe(true); // no global flags here
      expect(calls.some((call) => /^delete --force [0-9a-f]{64}$/.test(call))).toBe(true);
    } finally {
      await q.stop();
      await removeRunFolder(work);
    }
    expect(leftoversOf(q.dir)).toEqual({ processes: [], mounts: [], folderExists: false });
  }, 60_000);

  it("stop() removes every container, process, mount and file of the run, and is idempotent", async () => {
    const id = (await p.docker(["run", "-d", "bb", "sleep", "600"])).stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const pid = Number((await p.docker(["inspect", "--format", "{{.State.Pid}}", id])).stdout.trim());
    expect(isAlive(pid)).toBe(true);
    expect(leftoversOf(p.dir).processes.length).toBeGreaterThan(0); // conmon names the folder

    await p.stop();
    await p.stop();

    expect(leftoversOf(p.dir)).toEqual({ processes: [], mounts: [], folderExists: false });
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(join("/run/runc", id))).toBe(false);
    expect(existsSync("/var/lib/cni/results") ? readdirSync("/var/lib/cni/results").filter((f) => f.includes(id)) : []).toEqual([]);
    expect(cgroupRoots().filter((root) => existsSync(join(root, "libpod_parent", `libpod-${id}`)))).toEqual([]);
    expect(leftOutside(outside)).toEqual([]);
  }, 60_000);

  it("never touched the system's own Podman state (/run/libpod, /var/lib/containers/storage, /dev/shm/libpod_lock...)", () => {
    expect(systemPaths.filter((item) => !item.existed && existsSync(item.path)).map((item) => item.path)).toEqual([]);
  });
});
