import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { createHost, createRegistry, PluginHookError, type DaemonPlugin, type Host } from "hookplugins";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { helperSource } from "../../hookplugins/helperprocess/helperSource.js";
import {
  createHelperProcessPlugin,
  defaultHelperCommand,
  defaultHelperScript,
  HelperProcess,
  helperProcess,
  helperProcessPlugin,
  type HelperProcessOptions,
} from "../../hookplugins/helperprocess/index.js";

const dir = mkdtempSync(join(tmpdir(), "hookplugins-helper-test-"));
const started: HelperProcess[] = [];

afterEach(async () => {
  // a failed test must not leave a helper behind for the next one
  for (const helper of started) await helper.stop(new AbortController().signal);
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Whether `pid` runs; a zombie counts as gone (an orphan's zombie lingers where PID 1 does not reap). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

async function waitGone(pid: number): Promise<boolean> {
  for (let i = 0; i < 50 && alive(pid); i++) await sleep(20);
  return !alive(pid);
}

function hostWith(plugin: DaemonPlugin): Host {
  const registry = createRegistry();
  registry.registerDaemonPlugin(plugin);
  return createHost({ registry });
}

function helperHost(options: HelperProcessOptions): { helper: HelperProcess; host: Host } {
  const helper = new HelperProcess(options);
  started.push(helper);
  return { helper, host: hostWith(createHelperProcessPlugin(helper)) };
}

async function startError(host: Host): Promise<PluginHookError> {
  const error: unknown = await host.daemon.preStart().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(PluginHookError);
  return error as PluginHookError;
}

function ask(socket: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let reply = "";
    connect(socket)
      .on("data", (chunk) => (reply += chunk.toString("utf8")))
      .on("end", () => resolve(reply))
      .on("error", reject);
  });
}

describe("the exported helperprocess plugin", () => {
  const host = hostWith(helperProcessPlugin);
  started.push(helperProcess);

  it("starts the shipped helper on preStartHook and resolves once it serves its socket", async () => {
    await host.daemon.preStart();
    const pid = helperProcess.pid!;
    expect(helperProcess.command()).toEqual([process.execPath, defaultHelperScript]);
    expect(alive(pid)).toBe(true);
    expect(JSON.parse(await ask(helperProcess.readyInfo["socket"]!))).toMatchObject({ pid });
    await host.daemon.preStop();
  });

  it("stops the helper on preStopHook and leaves no process and no socket behind", async () => {
    await host.daemon.preStart();
    const pid = helperProcess.pid!;
    const socket = helperProcess.readyInfo["socket"]!;
    await host.daemon.preStop();
    expect(alive(pid)).toBe(false);
    expect(helperProcess.running).toBe(false);
    expect(existsSync(socket)).toBe(false);
  });
});

describe("helper commands", () => {
  it("runs the command in HOOKPLUGINS_HELPER_CMD when no command is configured", async () => {
    const pidFile = join(dir, "from-env.pid");
    process.env["HOOKPLUGINS_HELPER_CMD"] = `echo $$ > ${pidFile}; echo ready; exec sleep 300`;
    try {
      const { helper, host } = helperHost({});
      await host.daemon.preStart();
      expect(Number(readFileSync(pidFile, "utf8"))).toBe(helper.pid);
      await host.daemon.preStop();
    } finally {
      delete process.env["HOOKPLUGINS_HELPER_CMD"];
    }
  });

  it("stops a helper's own children too (the whole process group)", async () => {
    const pidFile = join(dir, "grandchild.pid");
    const { host } = helperHost({ command: ["/bin/sh", "-c", `sleep 300 & echo $! > ${pidFile}; echo ready; wait`] });
    await host.daemon.preStart();
    const grandchild = Number(readFileSync(pidFile, "utf8"));
    expect(alive(grandchild)).toBe(true);
    await host.daemon.preStop();
    expect(await waitGone(grandchild)).toBe(true);
  });

  it("kills a helper that ignores SIGTERM once stopTimeoutMs has passed", async () => {
    const { helper, host } = helperHost({
      command: ["/bin/sh", "-c", "trap '' TERM; echo ready; while :; do sleep 1; done"],
      stopTimeoutMs: 200,
    });
    await host.daemon.preStart();
    const pid = helper.pid!;
    await host.daemon.preStop();
    expect(helper.lastExit?.signal).toBe("SIGKILL");
    expect(alive(pid)).toBe(false);
  });

  it("has an embedded copy of helper.js (used when the plugin is bundled away from the file) equal to the file", () => {
    expect(helperSource).toBe(readFileSync(defaultHelperScript, "utf8"));
  });

  it("runs the embedded copy when helper.js is not next to the module, and stops it cleanly", async () => {
    const command = defaultHelperCommand(join(dir, "moved-away", "helper.js"));
    expect(command.slice(0, 3)).toEqual([process.execPath, "--input-type=module", "-e"]);
    const { helper, host } = helperHost({ command });
    await host.daemon.preStart();
    const pid = helper.pid!;
    expect(JSON.parse(await ask(helper.readyInfo["socket"]!))).toMatchObject({ pid });
    await host.daemon.preStop();
    expect(helper.lastExit).toEqual({ code: 0, signal: null });
    expect(alive(pid)).toBe(false);
  });

  it("the shipped helper exits by itself when its stdin closes (its parent is gone)", async () => {
    const child = spawn(process.execPath, [defaultHelperScript], { stdio: ["pipe", "pipe", "inherit"] });
    const lines = createInterface({ input: child.stdout });
    await new Promise<void>((resolve) => lines.once("line", () => resolve()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.stdin.end();
    expect(await exited).toBe(0);
  });
});

describe("helper start failures", () => {
  it("fails with a clear error when the helper command does not exist", async () => {
    const { host } = helperHost({ command: ["/nonexistent/hookplugins-helper"] });
    const error = await startError(host);
    expect(error.plugin).toBe("helperprocess");
    expect(error.message).toMatch(/cannot start helper `\/nonexistent\/hookplugins-helper`: spawn .*ENOENT/);
  });

  it("fails with the exit code and stderr of a helper that exits before it is ready", async () => {
    const { helper, host } = helperHost({ command: ["/bin/sh", "-c", "echo broken config >&2; exit 3"] });
    const error = await startError(host);
    expect(error.message).toMatch(/exited with code 3 before it printed a "ready" line: broken config/);
    expect(helper.running).toBe(false);
  });

  it("fails with all the stderr of the helper's processes, also what reaches the pipe after the helper's own exit", async () => {
    // The exit can be seen before the output is read; here a process of another session that shares the helper's
    // stderr writes it 200 ms after the helper exited, which makes that order certain.
    // (The helper exits only once that process runs in its own session, out of reach of the group kill.)
    const started = join(dir, "writer.started");
    const writer = `setsid /bin/sh -c 'touch ${started}; sleep 0.2; echo broken config >&2' &`;
    const { host } = helperHost({ command: ["/bin/sh", "-c", `${writer} while [ ! -e ${started} ]; do sleep 0.01; done; exit 3`] });
    const error = await startError(host);
    expect(error.message).toMatch(/exited with code 3 before it printed a "ready" line: broken config$/);
  });

  it("fails after readyTimeoutMs and kills a helper that never prints ready", async () => {
    const pidFile = join(dir, "never-ready.pid");
    const { helper, host } = helperHost({ command: ["/bin/sh", "-c", `echo $$ > ${pidFile}; exec sleep 300`], readyTimeoutMs: 300 });
    const error = await startError(host);
    expect(error.message).toMatch(/did not print a "ready" line within 300 ms/);
    expect(alive(Number(readFileSync(pidFile, "utf8")))).toBe(false);
    expect(helper.running).toBe(false);
  });

  it("kills a helper that is still starting when the daemon start is aborted", async () => {
    const pidFile = join(dir, "aborted.pid");
    const { helper, host } = helperHost({ command: ["/bin/sh", "-c", `echo $$ > ${pidFile}; exec sleep 300`] });
    const controller = new AbortController();
    const start = host.daemon.preStart({ signal: controller.signal });
    while (!existsSync(pidFile) || readFileSync(pidFile, "utf8").trim() === "") await sleep(10);
    controller.abort(new Error("daemon start cancelled"));
    await expect(start).rejects.toThrow(/daemon start cancelled/);
    expect(await waitGone(Number(readFileSync(pidFile, "utf8")))).toBe(true);
    await vi.waitFor(() => expect(helper.running).toBe(false));
  });
});
