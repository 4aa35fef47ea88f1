import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { itWithTools } from "../support/tools.js";
import { itWithDocker, repoRoot, runDocker } from "./helpers.js";

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A minid process started by a test. */
interface MinidProcess {
  child: ChildProcess;
  socketPath: string;
  /** Everything it printed so far (stdout and stderr). */
  output: () => string;
  /** Resolves once `text` was printed; rejects when minid exits first. */
  printed: (text: string) => Promise<void>;
  /** Resolves with the exit code (null when a signal ended it). */
  exit: Promise<number | null>;
}

/** Spawns examples/minid/src/main.ts as its own process (without waiting for it). */
async function spawnMinid(extra: string[] = [], options: { user?: { uid: number; gid: number }; env?: Record<string, string> } = {}): Promise<MinidProcess> {
  const stateDir = await mkdtemp(join(tmpdir(), "minid-cli-"));
  dirs.push(stateDir);
  if (options.user) await chown(stateDir, options.user.uid, options.user.gid);
  const socketPath = join(stateDir, "minid.sock");
  const child = spawn(process.execPath, ["--import", "tsx", "examples/minid/src/main.ts", "--state-dir", stateDir, "--socket", socketPath, ...extra], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...options.env },
    ...(options.user ?? {}),
  });
  children.push(child);
  let output = "";
  const waiters: Array<() => void> = [];
  const onData = (c: Buffer): void => {
    output += c.toString();
    for (const waiter of waiters.slice()) waiter();
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const printed = (text: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (!output.includes(text)) return;
        waiters.splice(waiters.indexOf(check), 1);
        resolve();
      };
      waiters.push(check);
      check();
      void exit.then((code) => reject(new Error(`minid exited (code ${String(code)}) before printing ${JSON.stringify(text)}:\n${output}`)));
    });
  return { child, socketPath, output: () => output, printed, exit };
}

/** Starts minid and resolves the moment it reports that it serves. */
async function startMinid(extra: string[] = [], options: { user?: { uid: number; gid: number }; env?: Record<string, string> } = {}): Promise<MinidProcess> {
  const minid = await spawnMinid(extra, options);
  await minid.printed("serving the Docker Engine API");
  return minid;
}

/** A helper command that ignores SIGTERM, so that minid's shutdown waits for the helper's stop time limit (3 s). */
const stubbornHelper = { HOOKPLUGINS_HELPER_CMD: `trap '' TERM; echo ready; exec sleep 60` };

itWithDocker("minid started from its command line serves the docker CLI", async () => {
  const { socketPath } = await startMinid(["--dry-run"]);
  const r = await runDocker(socketPath, ["version", "--format", "{{.Server.Version}}"]);
  expect(r.stdout.trim()).toBe("0.1.0");
});

it.each(["SIGTERM", "SIGINT"] as const)("%s sent the moment minid reports ready stops it cleanly: exit code 0 and the socket removed", async (signal) => {
  const { child, socketPath, output, exit } = await startMinid(["--dry-run"]);
  child.kill(signal);
  expect(await exit).toBe(0);
  expect(output()).toContain(`${signal} received`);
  expect(output()).toContain("minid: stopped");
  expect(existsSync(socketPath)).toBe(false);
});

it("SIGINT while minid is still starting stops it cleanly once it has started", async () => {
  const minid = await spawnMinid(["--dry-run"]);
  // printed inside startDaemon, before the socket is served
  await minid.printed("running in dry-run mode");
  minid.child.kill("SIGINT");
  expect(await minid.exit).toBe(0);
  expect(minid.output()).toContain("minid: SIGINT received, shutting down");
  expect(minid.output()).toContain("minid: stopped");
  expect(existsSync(minid.socketPath)).toBe(false);
});

it("a second SIGINT during shutdown is reported and does not interrupt the clean stop", async () => {
  const minid = await startMinid(["--dry-run"], { env: stubbornHelper });
  minid.child.kill("SIGINT");
  await minid.printed("SIGINT received, shutting down");
  minid.child.kill("SIGINT");
  await minid.printed("SIGINT received again while shutting down");
  expect(await minid.exit).toBe(0);
  expect(minid.output()).toContain("minid: stopped");
  expect(existsSync(minid.socketPath)).toBe(false);
});

it("the third SIGINT force-quits minid with exit code 130 and removes its socket", async () => {
  const minid = await startMinid(["--dry-run"], { env: stubbornHelper });
  minid.child.kill("SIGINT");
  await minid.printed("SIGINT received, shutting down");
  minid.child.kill("SIGINT");
  await minid.printed("received again while shutting down");
  minid.child.kill("SIGINT");
  expect(await minid.exit).toBe(130);
  expect(minid.output()).toContain("force quit");
  expect(minid.output()).not.toContain("minid: stopped");
  expect(existsSync(minid.socketPath)).toBe(false);
});

itWithDocker("minid says so and runs in dry-run mode when runc cannot be used", async () => {
  const { socketPath, output } = await startMinid(["--runc", "/nonexistent/runc"]);
  expect(output()).toMatch(/runc cannot run containers here \(.*\); running in dry-run mode/);
  const r = await runDocker(socketPath, ["version", "--format", "{{(index .Server.Components 0).Details.Runtime}}"]);
  expect(r.stdout.trim()).toBe("dry-run");
});

itWithTools("root", "docker")("minid started as an unprivileged user says runc needs root and runs in dry-run mode", async () => {
  const { socketPath, output } = await startMinid([], { user: { uid: 65534, gid: 65534 } });
  expect(output()).toContain("minid is not running as root");
  const r = await runDocker(socketPath, ["version", "--format", "{{(index .Server.Components 0).Details.Runtime}}"]);
  expect(r.stdout.trim()).toBe("dry-run");
});
