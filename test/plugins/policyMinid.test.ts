/**
 * The policy plugin compiled into minid: minid's entry bundled with esbuild and the hookplugins esbuild plugin, with
 * policy added for this build only (minid's hookplugins.json and generated module stay as they are), run as its own
 * process in dry-run mode and driven by the docker CLI.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeWithTools } from "../support/tools.js";
import { hookpluginsEsbuildPlugin } from "../../src/esbuild/index.js";
import { repoRoot, runDocker } from "../minid/helpers.js";

describeWithTools(["docker"], "the policy plugin compiled into minid", () => {
  let dir: string;
  let child: ChildProcess | undefined;
  let socketPath: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "policy-minid-"));
    const bundle = join(dir, "minid.mjs");
    await build({
      entryPoints: [join(repoRoot, "examples/minid/src/main.ts")],
      outfile: bundle,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      logLevel: "silent",
      // "hookplugins" and "hookplugins/<subpath>" resolve to the library source through tsconfig.json's paths
      tsconfig: join(repoRoot, "tsconfig.json"),
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
      plugins: [hookpluginsEsbuildPlugin({ root: join(repoRoot, "examples/minid"), extraPlugins: [join(repoRoot, "hookplugins/policy")] })],
    });
    const policyFile = join(dir, "policy.json");
    await writeFile(policyFile, JSON.stringify({ denyPrivileged: true, allowedVolumeOptions: ["size"] }));
    socketPath = join(dir, "minid.sock");
    child = spawn(process.execPath, [bundle, "--dry-run", "--state-dir", join(dir, "state"), "--socket", socketPath], {
      env: { ...process.env, HOOKPLUGINS_POLICY_FILE: policyFile },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let output = "";
    child.stderr!.on("data", (c: Buffer) => (output += c.toString()));
    const deadline = Date.now() + 15_000;
    while (!output.includes("serving the Docker Engine API")) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`minid did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }, 60_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("minid with policy compiled in rejects a privileged docker create with the rule and its fix", async () => {
    const r = await runDocker(socketPath, ["create", "--privileged", "busybox", "true"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('plugin "policy" failed in ContainerPlugin.preCreate: policy rule denyPrivileged: privileged containers are not allowed');
  });

  it("minid with policy compiled in still creates an allowed container, and envlimits keeps working", async () => {
    const r = await runDocker(socketPath, ["create", "-e", "HOOKPLUGINS_MEMORY=64m", "busybox", "true"]);
    expect(r.stderr).toBe("");
    const inspect = await runDocker(socketPath, ["inspect", "-f", "{{.HostConfig.Memory}}", r.stdout.trim()]);
    expect(inspect.stdout.trim()).toBe(String(64 * 1024 * 1024));
  });

  it("minid with policy compiled in rejects a volume option the policy does not allow", async () => {
    const r = await runDocker(socketPath, ["volume", "create", "-o", "device=/dev/sda", "v1"]);
    expect(r.stderr).toContain('plugin "policy" failed in VolumePlugin.preVolumeCreate: policy rule allowedVolumeOptions: volume option "device" not allowed');
  });
});
