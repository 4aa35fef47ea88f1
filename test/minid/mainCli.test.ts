import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { isRoot, repoRoot, runDocker } from "./helpers.js";

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** Starts examples/minid/src/main.ts as its own process and waits until it serves. */
async function startMinid(
  extra: string[] = [],
  user?: { uid: number; gid: number },
): Promise<{ child: ChildProcess; socketPath: string; output: () => string; exit: Promise<number | null> }> {
  const stateDir = await mkdtemp(join(tmpdir(), "minid-cli-"));
  dirs.push(stateDir);
  if (user) await chown(stateDir, user.uid, user.gid);
  const socketPath = join(stateDir, "minid.sock");
  const child = spawn(process.execPath, ["--import", "tsx", "examples/minid/src/main.ts", "--state-dir", stateDir, "--socket", socketPath, ...extra], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
    ...(user ?? {}),
  });
  children.push(child);
  let output = "";
  child.stdout?.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (output += c.toString()));
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const deadline = Date.now() + 15_000;
  while (!output.includes("serving the Docker Engine API")) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`minid did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, socketPath, output: () => output, exit };
}

it("minid started from its command line serves the docker CLI", async () => {
  const { socketPath } = await startMinid(["--dry-run"]);
  const r = await runDocker(socketPath, ["version", "--format", "{{.Server.Version}}"]);
  expect(r.stdout.trim()).toBe("0.1.0");
});

it.each(["SIGTERM", "SIGINT"] as const)("%s stops minid cleanly: exit code 0 and the socket removed", async (signal) => {
  const { child, socketPath, output, exit } = await startMinid(["--dry-run"]);
  child.kill(signal);
  expect(await exit).toBe(0);
  expect(output()).toContain(`${signal} received`);
  expect(output()).toContain("minid: stopped");
  expect(existsSync(socketPath)).toBe(false);
});

it("minid says so and runs in dry-run mode when runc cannot be used", async () => {
  const { socketPath, output } = await startMinid(["--runc", "/nonexistent/runc"]);
  expect(output()).toMatch(/runc cannot run containers here \(.*\); running in dry-run mode/);
  const r = await runDocker(socketPath, ["version", "--format", "{{(index .Server.Components 0).Details.Runtime}}"]);
  expect(r.stdout.trim()).toBe("dry-run");
});

it.skipIf(!isRoot)("minid started as an unprivileged user says runc needs root and runs in dry-run mode", async () => {
  const { socketPath, output } = await startMinid([], { uid: 65534, gid: 65534 });
  expect(output()).toContain("minid is not running as root");
  const r = await runDocker(socketPath, ["version", "--format", "{{(index .Server.Components 0).Details.Runtime}}"]);
  expect(r.stdout.trim()).toBe("dry-run");
});
