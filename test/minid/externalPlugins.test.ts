/**
 * minid with external plugins, driven by the real docker CLI: envlimits served out of process by
 * `hookplugins serve` gives the same `docker inspect` as compiled in, and an external plugin that fails or crashes
 * during `docker create` gives a Docker-style 500 naming the plugin and the hook while minid keeps serving.
 */
import { spawn, type ChildProcess, execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { envLimitsPlugin } from "../../hookplugins/envlimits/index.js";
import { createRegistry, PluginHookError } from "hookplugins";
import { loadExternalPlugins, serve, type ExternalPlugins, type HookPluginServer } from "hookplugins/external";
import { repoRoot, startTestDaemon, type TestDaemon } from "./helpers.js";
import { describeWithTools, findTool } from "../support/tools.js";

/** The docker CLI (undefined: the docker tests skip, naming it). */
const docker = findTool("docker");

function runDocker(socketPath: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(docker!, args, { env: { PATH: process.env.PATH ?? "", HOME: tmpdir(), DOCKER_HOST: `unix://${socketPath}` }, timeout: 20_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== "number") return reject(err);
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
    });
  });
}

function accepts(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(socketPath);
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });
}

/** Starts the real CLI: `hookplugins serve hookplugins/envlimits --socket <path>`, and waits until it accepts. */
async function serveWithCli(socketPath: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "src/cli/main.ts"), "serve", "hookplugins/envlimits", "--socket", socketPath], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (c) => (output += String(c)));
  child.stderr!.on("data", (c) => (output += String(c)));
  const end = Date.now() + 15_000;
  while (!(await accepts(socketPath))) {
    if (child.exitCode !== null || Date.now() > end) throw new Error(`hookplugins serve did not start: ${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return child;
}

/** `docker inspect` of a container created with limit variables, with what differs per container replaced. */
async function createAndInspect(d: TestDaemon): Promise<unknown> {
  const created = await runDocker(d.socketPath, ["create", "--name", "limited", "-e", "HOOKPLUGINS_MEMORY=512m", "-e", "HOOKPLUGINS_CPU_SHARES=512", "-e", "KEEP=1", "busybox", "true"]);
  expect(created.stderr).toBe("");
  const id = created.stdout.trim();
  const inspected = await runDocker(d.socketPath, ["inspect", "limited"]);
  expect(inspected.code).toBe(0);
  const normalized = inspected.stdout
    .split(id).join("<id>")
    .split(id.slice(0, 12)).join("<short-id>")
    .split(d.stateDir).join("<state>")
    .replace(/"EndpointID": "[0-9a-f]+"/g, '"EndpointID": "<endpoint-id>"');
  const [info] = JSON.parse(normalized) as Array<Record<string, unknown>>;
  return { ...info, Created: "<created>" };
}

describeWithTools(["docker"], "minid with external plugins", () => {
  it("envlimits served out of process by `hookplugins serve` gives the same docker inspect as compiled in", async () => {
    const inProcess = await startTestDaemon((registry) => registry.registerContainerPlugin(envLimitsPlugin), { dryRun: true });
    let compiledIn: unknown;
    try {
      compiledIn = await createAndInspect(inProcess);
    } finally {
      await inProcess.close();
    }
    const sockets = await mkdtemp(join(tmpdir(), "minid-ext-"));
    const server = await serveWithCli(join(sockets, "envlimits.sock"));
    const registry = createRegistry();
    let external: ExternalPlugins | undefined;
    try {
      external = await loadExternalPlugins(registry, { socketDirs: [sockets] });
      expect(registry.list()[0]?.source).toEqual({ kind: "socket", location: join(sockets, "envlimits.sock") });
      const outOfProcess = await startTestDaemon(() => undefined, { dryRun: true, registry });
      try {
        const viaSocket = await createAndInspect(outOfProcess);
        expect(viaSocket).toEqual(compiledIn);
        expect((viaSocket as { HostConfig: { Memory: number; CpuShares: number } }).HostConfig).toMatchObject({ Memory: 536870912, CpuShares: 512 });
      } finally {
        await outOfProcess.close();
      }
    } finally {
      await external?.close();
      server.kill("SIGTERM");
      await new Promise((r) => server.once("exit", r));
      expect(existsSync(join(sockets, "envlimits.sock"))).toBe(false);
      await rm(sockets, { recursive: true, force: true });
    }
  });

  describe("an external plugin failing during docker create", () => {
    let dir: string;
    let d: TestDaemon;
    let external: ExternalPlugins;
    let quota: HookPluginServer;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "minid-ext-"));
      await mkdir(join(dir, "sockets"));
      await mkdir(join(dir, "bin"));
      quota = await serve(
        {
          name: "quota",
          preCreate: (_ctx: unknown, config: { Env?: string[] }) => {
            if (config.Env?.includes("QUOTA=exceeded")) throw new Error("quota exceeded for tenant a");
          },
        },
        { socket: join(dir, "sockets", "quota.sock"), handleSignals: false },
      );
      // an executable plugin that exits in the middle of preCreate when asked to
      const crasher = join(dir, "bin", "crasher");
      await writeFile(
        crasher,
        `#!/bin/sh\nFAKE_NAME=crasher FAKE_CRASH_ON_CALL=1 exec ${JSON.stringify(process.execPath)} ${JSON.stringify(join(repoRoot, "test/external/fixtures/fakeExecutable.mjs"))} "$@"\n`,
      );
      await chmod(crasher, 0o755);
      const registry = createRegistry();
      external = await loadExternalPlugins(registry, { socketDirs: [join(dir, "sockets")], executableDirs: [join(dir, "bin")] });
      d = await startTestDaemon(() => undefined, { dryRun: true, registry });
    });
    afterAll(async () => {
      await d.close();
      await external.close();
      await quota.close();
      await rm(dir, { recursive: true, force: true });
    });

    it("is a Docker-style 500 whose message is the PluginHookError message with the plugin's Err", async () => {
      d.host.disable("crasher");
      const expected = new PluginHookError("quota", "ContainerPlugin.preCreate", new Error("quota exceeded for tenant a")).message;
      const api = await d.api("POST", "/v1.41/containers/create", JSON.stringify({ Image: "busybox", Env: ["QUOTA=exceeded"] }));
      expect(api.status).toBe(500);
      expect(api.json).toEqual({ message: expected });
      const cli = await runDocker(d.socketPath, ["create", "-e", "QUOTA=exceeded", "busybox", "true"]);
      expect(cli.code).not.toBe(0);
      expect(cli.stderr).toContain(`Error response from daemon: ${expected}`);
      d.host.enable("crasher");
    });

    it("is a 500 naming the plugin and the hook when its process dies mid-call, and minid keeps serving", async () => {
      const cli = await runDocker(d.socketPath, ["create", "busybox", "true"]);
      expect(cli.code).not.toBe(0);
      expect(cli.stderr).toMatch(/Error response from daemon: plugin "crasher" failed in ContainerPlugin\.preCreate: the connection to the plugin broke during ContainerPlugin\.PreCreate/);
      expect((await runDocker(d.socketPath, ["version", "--format", "{{.Server.Version}}"])).code).toBe(0);
      d.host.disable("crasher");
      const created = await runDocker(d.socketPath, ["create", "busybox", "true"]);
      expect(created.code).toBe(0);
    });
  });
});

describeWithTools(["docker"], "minid's external plugin flags", () => {
  it("--plugin-exec-dir and --plugin-socket-dir load external plugins; SIGTERM stops minid and the plugin processes it started", async () => {
    const dir = await mkdtemp(join(tmpdir(), "minid-flags-"));
    await mkdir(join(dir, "bin"));
    await mkdir(join(dir, "sockets"));
    const exe = join(dir, "bin", "labeler");
    await writeFile(exe, `#!/bin/sh\nFAKE_NAME=labeler exec ${JSON.stringify(process.execPath)} ${JSON.stringify(join(repoRoot, "test/external/fixtures/fakeExecutable.mjs"))} "$@"\n`);
    await chmod(exe, 0o755);
    const tagger = await serve(
      { name: "tagger", preCreate: (_c: unknown, config: { Labels?: Record<string, string> }) => ({ ...config, Labels: { ...config.Labels, tagged: "yes" } }) },
      { socket: join(dir, "sockets", "tagger.sock"), handleSignals: false },
    );
    const socketPath = join(dir, "minid.sock");
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "examples/minid/src/main.ts", "--dry-run", "--state-dir", join(dir, "state"), "--socket", socketPath, "--plugin-exec-dir", join(dir, "bin"), "--plugin-socket-dir", join(dir, "sockets")],
      { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    child.stderr!.on("data", (c) => (output += String(c)));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      const deadline = Date.now() + 15_000;
      while (!output.includes("serving the Docker Engine API")) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`minid did not start:\n${output}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const created = await runDocker(socketPath, ["create", "--name", "c1", "busybox", "true"]);
      expect(created.stderr).toBe("");
      const labels = JSON.parse((await runDocker(socketPath, ["inspect", "-f", "{{json .Config.Labels}}", "c1"])).stdout) as Record<string, string>;
      expect(labels["tagged"]).toBe("yes");
      const pid = Number(labels["pid"]);
      expect(pid).toBeGreaterThan(0);
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(() => process.kill(pid, 0)).toThrow();
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      await tagger.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
