/**
 * The Docker bridge against a real dockerd (Debian's docker.io 20.10), driven by the docker CLI. One dockerd for the
 * whole file; the bridge runs as `hookplugins docker-plugin` in its own process over a temporary project that lists
 * envlimits and policy. Skips (with the reason) where dockerd or root is missing.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dockerdSkipReason, dockerPluginDir, startDockerd, uniquePluginName, type Dockerd } from "./dockerd.js";

const repoRoot = resolve(fileURLToPath(import.meta.url), "../../..");
const skip = dockerdSkipReason();
if (skip) console.warn(`test/docker/dockerd.test.ts skipped: ${skip}`);

const name = uniquePluginName();
let d: Dockerd;
let work: string;
let project: string;
let volumeRoot: string;

/** A `hookplugins docker-plugin` process. */
interface BridgeProcess {
  child: ChildProcess;
  output(): string;
  /** Settles with the exit code when the process has exited. */
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

async function startBridge(onChange: "deny" | "warn" | "allow"): Promise<BridgeProcess> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(repoRoot, "src/cli/main.ts"), "-C", project, "docker-plugin", "--name", name, "--authz", "--volume-driver", "--volume-root", volumeRoot, "--on-change", onChange],
    { cwd: repoRoot, env: { ...process.env, HOOKPLUGINS_POLICY_FILE: join(work, "policy.json") }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout!.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const deadline = Date.now() + 30_000;
  while (!output.includes("Serving")) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the bridge did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    output: () => output,
    exited,
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

let bridge: BridgeProcess | undefined;
async function restartBridge(onChange: "deny" | "warn" | "allow"): Promise<BridgeProcess> {
  await bridge?.stop();
  bridge = await startBridge(onChange);
  return bridge;
}

beforeAll(async () => {
  if (skip) return;
  work = await mkdtemp(join(tmpdir(), "hpdk-"));
  project = join(work, "project");
  volumeRoot = join(work, "volumes");
  await mkdir(project, { recursive: true });
  await writeFile(
    join(project, "hookplugins.json"),
    JSON.stringify({ plugins: [join(repoRoot, "hookplugins/envlimits"), join(repoRoot, "hookplugins/policy")], generated: false }),
  );
  await writeFile(join(work, "policy.json"), JSON.stringify({ denyPrivileged: true, allowedVolumeOptions: ["size"] }));
  d = await startDockerd();
  await restartBridge("deny");
}, 90_000);

afterAll(async () => {
  if (skip) return;
  await d?.stop();
  await bridge?.stop();
  if (work) await rm(work, { recursive: true, force: true });
}, 60_000);

describe.skipIf(skip !== undefined)(skip === undefined ? "hookplugins docker-plugin with a real dockerd" : `${"hookplugins docker-plugin with a real dockerd"} [skipped: ${skip}]`, () => {
  describe("as a volume driver", () => {
    it("docker volume create -d <name> makes a directory under the volume root", async () => {
      const r = await d.docker(["volume", "create", "-d", name, "-o", "size=1m", "vol1"]);
      expect(r.stderr).toBe("");
      expect(r.stdout.trim()).toBe("vol1");
      expect(existsSync(join(volumeRoot, "vol1"))).toBe(true);
    });

    it("docker run -v vol1:/data writes a file that appears under the volume root", async () => {
      const r = await d.docker(["run", "--rm", "--network", "none", "-v", "vol1:/data", "bb", "sh", "-c", "echo hello > /data/greeting"]);
      expect(r.stderr).toBe("");
      expect(await readFile(join(volumeRoot, "vol1", "greeting"), "utf8")).toBe("hello\n");
    });

    it("docker volume ls lists the volume with the bridge as its driver", async () => {
      const r = await d.docker(["volume", "ls", "--format", "{{.Driver}} {{.Name}}"]);
      expect(r.stdout.split("\n")).toContain(`${name} vol1`);
    });

    it("docker volume create with an option the policy plugin rejects fails with the plugin's message", async () => {
      const r = await d.docker(["volume", "create", "-d", name, "-o", "foo=bar", "vol2"]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(
        'create vol2: plugin "policy" failed in VolumePlugin.preVolumeCreate: policy rule allowedVolumeOptions: volume option "foo" not allowed; allowed options: size',
      );
      expect(existsSync(join(volumeRoot, "vol2"))).toBe(false);
    });

    it("docker volume rm removes the volume and its directory", async () => {
      const r = await d.docker(["volume", "rm", "vol1"]);
      expect(r.stderr).toBe("");
      expect(existsSync(join(volumeRoot, "vol1"))).toBe(false);
      expect((await d.docker(["volume", "ls", "-q"])).stdout.split("\n")).not.toContain("vol1");
    });
  });

  describe("as an authorization plugin", () => {
    it("is switched on without restarting dockerd: authorization-plugins in its config file, then SIGHUP", async () => {
      const pid = d.pid;
      await d.reload({ "authorization-plugins": [name] });
      expect(d.pid).toBe(pid);
      const r = await d.docker(["create", "--network", "none", "--privileged", "bb", "true"]);
      expect(r.stderr).toContain(`authorization denied by plugin ${name}`);
    });

    it("denies a docker create the policy plugin rejects, naming the plugin and the hook", async () => {
      const r = await d.docker(["create", "--network", "none", "--privileged", "bb", "true"]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(
        `Error response from daemon: authorization denied by plugin ${name}: plugin "policy" failed in ContainerPlugin.preCreate: policy rule denyPrivileged: privileged containers are not allowed`,
      );
    });

    it("lets an allowed docker create through", async () => {
      const r = await d.docker(["create", "--network", "none", "bb", "true"]);
      expect(r.stderr).toBe("");
      expect(r.stdout.trim()).toMatch(/^[0-9a-f]{64}$/);
    });

    it("--on-change deny: denies a create envlimits would change, listing /HostConfig/Memory by envlimits", async () => {
      const r = await d.docker(["create", "--network", "none", "-e", "HOOKPLUGINS_MEMORY=64m", "bb", "true"]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`authorization denied by plugin ${name}: plugins would change this container create, and Docker cannot apply a changed request:`);
      expect(r.stderr).toContain("/HostConfig/Memory by envlimits (0 -> 67108864)");
      expect(r.stderr).toContain("/Env by envlimits");
    });

    it("--on-change warn: allows the create as sent and writes the list to the bridge's stderr", async () => {
      const b = await restartBridge("warn");
      const r = await d.docker(["create", "--network", "none", "-e", "HOOKPLUGINS_MEMORY=64m", "bb", "true"]);
      expect(r.stderr).toBe("");
      const inspect = await d.docker(["inspect", "-f", "{{.HostConfig.Memory}}", r.stdout.trim()]);
      expect(inspect.stdout.trim()).toBe("0"); // dockerd cannot apply a changed body
      // the warning is written before the reply; give the pipe a moment to deliver it
      for (let i = 0; i < 40 && !b.output().includes("would change"); i++) await new Promise((r) => setTimeout(r, 50));
      expect(b.output()).toContain("hookplugins: allowed a container create that plugins would change (Docker cannot apply the change): /Env by envlimits");
      expect(b.output()).toContain("/HostConfig/Memory by envlimits (0 -> 67108864)");
    });

    it("--on-change allow: allows the create and writes nothing", async () => {
      const b = await restartBridge("allow");
      const r = await d.docker(["create", "--network", "none", "-e", "HOOKPLUGINS_MEMORY=64m", "bb", "true"]);
      expect(r.stderr).toBe("");
      expect(b.output()).not.toContain("would change");
    });

    it("stopped while dockerd runs: docker calls fail closed with a message naming the plugin and its missing socket", async () => {
      const code = await bridge!.stop();
      expect(code).toBe(0);
      const socket = join(dockerPluginDir, `${name}.sock`);
      expect(existsSync(socket)).toBe(false);
      // dockerd retries the plugin for about 15 s, for the CLI's /_ping and again for the request (the README's wait)
      const started = Date.now();
      const r = await d.docker(["ps", "-a"], { timeoutMs: 90_000 });
      const waited = Date.now() - started;
      expect(r.code).not.toBe(0);
      expect(waited).toBeGreaterThan(20_000);
      expect(waited).toBeLessThan(60_000);
      expect(r.stderr).toContain(`plugin ${name} failed with error: Post "http://%2Frun%2Fdocker%2Fplugins%2F${name}.sock/AuthZPlugin.AuthZReq": dial unix ${socket}: connect: no such file or directory`);
    }, 100_000);

    it("started again: docker calls work", async () => {
      await restartBridge("deny");
      const r = await d.docker(["create", "--network", "none", "bb", "true"]);
      expect(r.stderr).toBe("");
      expect((await d.docker(["create", "--network", "none", "--privileged", "bb", "true"])).stderr).toContain(`authorization denied by plugin ${name}`);
    });
  });

  it("the bridge stops cleanly on SIGINT and removes its socket", async () => {
    const b = bridge!;
    b.child.kill("SIGINT");
    expect(await b.exited).toBe(0);
    expect(b.output()).toContain(`SIGINT received: stopped serving Docker plugin "${name}"`);
    expect(existsSync(join(dockerPluginDir, `${name}.sock`))).toBe(false);
    bridge = undefined;
  });

  it("stopping dockerd leaves no process of it and no file of this run behind", async () => {
    const dir = d.dir;
    await d.reload({});
    await d.stop();
    expect(existsSync(dir)).toBe(false);
    const leftovers = (await readdir("/proc")).filter((p) => /^\d+$/.test(p));
    for (const pid of leftovers) {
      const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
      expect(cmdline).not.toContain(dir);
    }
  }, 60_000);
});
