/**
 * No orphans: an executable plugin never outlives its host. A real host process is SIGKILLed while its plugin is
 * idle, during a call and while the plugin starts, and 2 s later no process of the plugin's process group is left
 * (the host pipe rule of docs/PROTOCOL.md), for the library's runner and for the Python example. A plugin that
 * ignores the rule is stopped at the host's next start, its pid file and socket removed, with a message; a pid that
 * now belongs to another process is never signalled. serve() ends on end-of-file of its stdin only under the rule.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { chmod, mkdir, readdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createRegistry } from "hookplugins";
import { loadExternalPlugins, type ExternalPlugins } from "hookplugins/external";
import type { PluginPidRecord } from "../../src/external/pidFiles.js";
import { processIdentity } from "../../src/external/processIdentity.js";
import { itWithTools } from "../support/tools.js";
import { post, sleep, tempDir, waitFor } from "./helpers.js";

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, "../..");
const pythonPlugins = join(repoRoot, "examples/python-plugin/plugins");
const hasProc = existsSync("/proc/self/stat");
if (!hasProc) console.warn("skipping the no-orphans tests: they identify processes through Linux /proc, which is missing here");

let tmp: { dir: string; cleanup(): Promise<void> };
let bin: string;
const started: ChildProcess[] = [];
const groups: number[] = [];

beforeAll(async () => {
  tmp = await tempDir("hookplugins-orphans-");
  bin = join(tmp.dir, "bin");
  // bundled once, so that each process starts in a fraction of a second (as a compiled executable plugin does)
  await build({
    entryPoints: ["noOrphansPlugin", "noOrphansServe", "noOrphansHost"].map((name) => join(here, "fixtures", `${name}.ts`)),
    outdir: bin,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    tsconfig: join(repoRoot, "tsconfig.json"),
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    logLevel: "error",
  });
}, 60_000);

afterEach(() => {
  // whatever a failed test left: its processes and plugin groups
  for (const child of started.splice(0)) child.kill("SIGKILL");
  for (const pgid of groups.splice(0)) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // gone, as it should be
    }
  }
});

afterAll(async () => {
  await tmp.cleanup();
});

/** The live (not zombie) processes of process group `pgid`, from /proc. */
function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(pgrp) === pgid && state !== "Z") members.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return members;
}

/** A folder of executables, with `name` running `node <script>` (or `script` itself when it is executable) with `env`. */
async function execDirWith(name: string, script: string, env: Record<string, string> = {}): Promise<string> {
  const dir = join(tmp.dir, `exec-${name}-${Date.now()}`);
  await mkdir(dir);
  const vars = Object.entries(env).map(([k, v]) => `${k}=${JSON.stringify(v)} `).join("");
  await writeFile(join(dir, name), `#!/bin/sh\n${vars}exec ${JSON.stringify(process.execPath)} ${JSON.stringify(script)} "$@"\n`);
  await chmod(join(dir, name), 0o755);
  return dir;
}

interface HostProcess {
  readonly child: ChildProcess;
  readonly lines: Record<string, unknown>[];
  stderr: string;
  readonly exited: Promise<number | null>;
  line(event: string, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/** Starts the host program (fixtures/noOrphansHost.ts) with `env`. */
function startHost(env: Record<string, string>): HostProcess {
  const child = spawn(process.execPath, [join(bin, "noOrphansHost.mjs")], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  started.push(child);
  const host: HostProcess = {
    child,
    lines: [],
    stderr: "",
    exited: new Promise((r) => child.once("exit", (code) => r(code))),
    async line(event, timeoutMs = 10_000) {
      await waitFor(() => host.lines.some((l) => l["event"] === event), timeoutMs, `the host's "${event}" line (stderr: ${host.stderr})`);
      return host.lines.find((l) => l["event"] === event)!;
    },
  };
  createInterface({ input: child.stdout! }).on("line", (line) => host.lines.push(JSON.parse(line) as Record<string, unknown>));
  child.stderr!.on("data", (chunk: Buffer) => (host.stderr += chunk.toString()));
  return host;
}

/** The pid file the host wrote for plugin `name` in `runDir`, once it is there. */
async function pidRecord(runDir: string, name: string): Promise<PluginPidRecord> {
  const file = join(runDir, `${name}.pid`);
  await waitFor(() => existsSync(file), 10_000, `the pid file ${file}`);
  const record = JSON.parse(readFileSync(file, "utf8")) as PluginPidRecord;
  groups.push(record.process.pid);
  return record;
}

/** SIGKILLs the host, waits 2 s, and resolves with what is left of the plugin's process group. */
async function killHostAndWait(host: HostProcess, pluginPid: number): Promise<number[]> {
  expect(groupMembers(pluginPid)).toContain(pluginPid); // it runs before
  host.child.kill("SIGKILL");
  await host.exited;
  await sleep(2000);
  return groupMembers(pluginPid);
}

describe.skipIf(!hasProc)("a plugin on the library's runner (it follows the host pipe rule)", () => {
  it("is gone 2 s after its host is SIGKILLed while it is idle", async () => {
    const runDir = join(tmp.dir, "run-idle");
    const host = startHost({ NO_ORPHANS_EXEC_DIR: await execDirWith("obedient", join(bin, "noOrphansPlugin.mjs")), NO_ORPHANS_RUN_DIR: runDir, NO_ORPHANS_MODE: "call" });
    const called = await host.line("called");
    const record = await pidRecord(runDir, "obedient");
    expect((called["labels"] as Record<string, string>)["pid"]).toBe(String(record.process.pid));
    expect(await killHostAndWait(host, record.process.pid)).toEqual([]);
    expect(existsSync(join(runDir, "obedient.sock"))).toBe(false); // it removed its socket on the way out
  });

  it("is gone 2 s after its host is SIGKILLed during 16 calls it has not answered", async () => {
    const runDir = join(tmp.dir, "run-inflight");
    const exec = await execDirWith("obedient", join(bin, "noOrphansPlugin.mjs"));
    const host = startHost({ NO_ORPHANS_EXEC_DIR: exec, NO_ORPHANS_RUN_DIR: runDir, NO_ORPHANS_MODE: "call", NO_ORPHANS_IMAGE: "hang", NO_ORPHANS_CALLS: "16" });
    const received = (): number => host.lines.filter((l) => l["event"] === "log" && l["line"] === "call received").length;
    await waitFor(() => received() === 16, 10_000, "the plugin to receive the 16 calls");
    const record = await pidRecord(runDir, "obedient");
    expect(host.lines.some((l) => l["event"] === "called" || l["event"] === "failed")).toBe(false);
    expect(await killHostAndWait(host, record.process.pid)).toEqual([]);
  });

  it("is gone 2 s after its host is SIGKILLed while it is still starting", async () => {
    const runDir = join(tmp.dir, "run-starting");
    const exec = await execDirWith("obedient", join(bin, "noOrphansPlugin.mjs"), { NO_ORPHANS_START_DELAY_MS: "700" });
    const host = startHost({ NO_ORPHANS_EXEC_DIR: exec, NO_ORPHANS_RUN_DIR: runDir, NO_ORPHANS_MODE: "call" });
    const record = await pidRecord(runDir, "obedient");
    expect(existsSync(join(runDir, "obedient.sock"))).toBe(false); // not listening yet
    expect(await killHostAndWait(host, record.process.pid)).toEqual([]);
  });
});

describe.skipIf(!hasProc)("the Python example plugin (it follows the host pipe rule)", () => {
  itWithTools("python3")("is gone 2 s after its host is SIGKILLed while it is idle", async () => {
    const runDir = join(tmp.dir, "run-py-idle");
    const host = startHost({ NO_ORPHANS_EXEC_DIR: pythonPlugins, NO_ORPHANS_RUN_DIR: runDir, NO_ORPHANS_MODE: "call", NO_ORPHANS_IMAGE: "busybox" });
    await host.line("called");
    const record = await pidRecord(runDir, "labelpolicy");
    expect(await killHostAndWait(host, record.process.pid)).toEqual([]);
    expect(existsSync(join(runDir, "labelpolicy.sock"))).toBe(false);
  });

  itWithTools("python3")("is gone 2 s after its host is SIGKILLed while it is still starting", async () => {
    const runDir = join(tmp.dir, "run-py-starting");
    const host = startHost({ NO_ORPHANS_EXEC_DIR: pythonPlugins, NO_ORPHANS_RUN_DIR: runDir, NO_ORPHANS_MODE: "call", NO_ORPHANS_IMAGE: "busybox" });
    const record = await pidRecord(runDir, "labelpolicy");
    expect(await killHostAndWait(host, record.process.pid)).toEqual([]);
  });
});

describe.skipIf(!hasProc)("a plugin that ignores the host pipe rule", () => {
  /** Runs a host with `env` that starts the rule-ignoring plugin "stubborn" (`script` with `pluginEnv`), SIGKILLs it, and checks the plugin survived. */
  async function orphan(env: Record<string, string>, script: string, pluginEnv: Record<string, string>): Promise<{ exec: string; record: PluginPidRecord; runDir: string }> {
    const exec = await execDirWith("stubborn", script, pluginEnv);
    const host = startHost({ NO_ORPHANS_EXEC_DIR: exec, NO_ORPHANS_MODE: "call", ...env });
    await host.line("called");
    const runDir = env["NO_ORPHANS_RUN_DIR"] ?? (await firstRunDir(env["TMPDIR"]!));
    const record = await pidRecord(runDir, "stubborn");
    expect(await killHostAndWait(host, record.process.pid)).toEqual([record.process.pid]); // the orphan this is about
    return { exec, record, runDir };
  }

  async function firstRunDir(parent: string): Promise<string> {
    const name = (await readdir(parent)).find((n) => n.startsWith("hookplugins-run-"));
    return join(parent, name!);
  }

  it("is stopped at the host's next start, its pid file and socket removed, with a message naming plugin, pid and files", async () => {
    const runDir = join(tmp.dir, "run-stale");
    const { exec, record } = await orphan({ NO_ORPHANS_RUN_DIR: runDir }, join(bin, "noOrphansPlugin.mjs"), { NO_ORPHANS_NAME: "stubborn", NO_ORPHANS_STUBBORN: "1" }); // it ignores SIGTERM too
    const pidFile = join(runDir, "stubborn.pid");
    const socket = join(runDir, "stubborn.sock");
    expect(existsSync(socket)).toBe(true);
    const next = startHost({ NO_ORPHANS_EXEC_DIR: exec, NO_ORPHANS_RUN_DIR: runDir, NO_ORPHANS_MODE: "load" });
    const loaded = await next.line("loaded");
    const message = `executable plugin "stubborn" (pid ${record.process.pid}, started by host pid ${record.host.pid}, which is gone) was still running: stopped it with SIGKILL; removed its stale pid file ${pidFile} and socket ${socket}`;
    expect(loaded["stale"]).toEqual([{ plugin: "stubborn", pid: record.process.pid, file: pidFile, action: "stopped", signal: "SIGKILL", message }]);
    expect(await next.exited).toBe(0);
    expect(next.stderr).toContain(`Warning: ${message}`);
    expect(groupMembers(record.process.pid)).toEqual([]);
    expect(existsSync(pidFile)).toBe(false);
    expect(existsSync(socket)).toBe(false);
  });

  it("left in a host's temp runtime folder, is stopped at the next start of a host without runDir, and the folder removed", async () => {
    const tmpdir = join(tmp.dir, "tmpdir");
    await mkdir(tmpdir);
    const { exec, record, runDir } = await orphan({ TMPDIR: tmpdir }, join(here, "fixtures", "fakeExecutable.mjs"), { FAKE_NAME: "stubborn" });
    const next = startHost({ NO_ORPHANS_EXEC_DIR: exec, TMPDIR: tmpdir, NO_ORPHANS_MODE: "load" });
    const loaded = await next.line("loaded");
    expect(loaded["stale"]).toMatchObject([{ plugin: "stubborn", pid: record.process.pid, file: join(runDir, "stubborn.pid"), action: "stopped", signal: "SIGTERM" }]);
    expect(await next.exited).toBe(0);
    expect(groupMembers(record.process.pid)).toEqual([]);
    expect(existsSync(runDir)).toBe(false);
  });
});

describe.skipIf(!hasProc)("pid files at a host's start", () => {
  let external: ExternalPlugins | undefined;
  let sleeper: ChildProcess | undefined;
  afterEach(async () => {
    await external?.close();
    external = undefined;
    sleeper?.kill("SIGKILL");
  });

  /** A live process that has nothing to do with any plugin, and a runtime folder with a pid file naming it. */
  async function pidFileNaming(host: { pid: number; startTime: string; bootId: string }, startTime?: string): Promise<{ runDir: string; pid: number; file: string }> {
    sleeper = spawn("sleep", ["30"], { stdio: "ignore" });
    const pid = sleeper.pid!;
    const identity = (await processIdentity(pid))!;
    const runDir = join(tmp.dir, `run-pids-${pid}`);
    await mkdir(runDir, { mode: 0o700 });
    const file = join(runDir, "ghost.pid");
    const record: PluginPidRecord = { plugin: "ghost", executable: "/nowhere/ghost", socket: join(runDir, "ghost.sock"), process: { ...identity, startTime: startTime ?? identity.startTime }, host };
    await writeFile(file, JSON.stringify(record));
    return { runDir, pid, file };
  }

  async function loadWith(runDir: string): Promise<ExternalPlugins> {
    const exec = join(tmp.dir, "exec-empty");
    await mkdir(exec, { recursive: true });
    return (external = await loadExternalPlugins(createRegistry(), { executableDirs: [exec] }, { runDir }));
  }

  it("name a pid now taken by another process: that process is left alone and the pid file removed", async () => {
    const self = (await processIdentity(process.pid))!;
    const { runDir, pid, file } = await pidFileNaming({ ...self, pid: 999_999_999 }, "1");
    const loaded = await loadWith(runDir);
    expect(loaded.stale).toMatchObject([{ plugin: "ghost", pid, file, action: "pid-reused" }]);
    expect(loaded.stale[0]!.message).toContain("its pid now belongs to another process, which was left alone");
    expect(sleeper!.exitCode).toBeNull();
    expect(sleeper!.signalCode).toBeNull();
    expect(existsSync(file)).toBe(false);
  });

  it("that name no running plugin are reported in stale, with no process warning", async () => {
    const self = (await processIdentity(process.pid))!;
    const { runDir } = await pidFileNaming({ ...self, pid: 999_999_999 }, "1");
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on("warning", onWarning);
    try {
      const loaded = await loadWith(runDir);
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
      expect(loaded.stale).toHaveLength(1);
      expect(warnings.filter((w) => (w as Error & { code?: string }).code === "HOOKPLUGINS_STALE_PLUGIN")).toEqual([]);
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("naming a socket outside their folder do not get that file removed", async () => {
    const { runDir, file } = await pidFileNaming({ pid: 999_999_999, startTime: "1", bootId: "x" }, "1");
    const outside = join(tmp.dir, "not-in-run-dir.sock");
    // a stale socket file (its server was killed), so only its place protects it
    const script = `require("node:net").createServer().listen(${JSON.stringify(outside)}, () => process.kill(process.pid, "SIGKILL"))`;
    await new Promise((r) => spawn(process.execPath, ["-e", script], { stdio: "ignore" }).once("exit", r));
    expect(existsSync(outside)).toBe(true);
    await writeFile(file, JSON.stringify({ ...JSON.parse(readFileSync(file, "utf8")), socket: outside }));
    const loaded = await loadWith(runDir);
    expect(loaded.stale).toMatchObject([{ plugin: "ghost", action: "pid-reused" }]);
    expect(loaded.stale[0]!.message).not.toContain(outside);
    expect(existsSync(file)).toBe(false);
    expect(existsSync(outside)).toBe(true);
  });

  it("that cannot be read are left alone", async () => {
    const runDir = join(tmp.dir, "run-garbled");
    await mkdir(runDir, { mode: 0o700 });
    await writeFile(join(runDir, "garbled.pid"), "{not json");
    await writeFile(join(runDir, "other.pid"), JSON.stringify({ plugin: "other", pid: 1 }));
    const loaded = await loadWith(runDir);
    expect(loaded.stale).toEqual([]);
    expect((await readdir(runDir)).sort()).toEqual(["garbled.pid", "other.pid"]);
  });

  it("written by a host that still runs are left alone, and so is its plugin", async () => {
    const self = (await processIdentity(process.pid))!;
    const { runDir, file } = await pidFileNaming(self);
    const loaded = await loadWith(runDir);
    expect(loaded.stale).toEqual([]);
    await sleep(100);
    expect(sleeper!.exitCode).toBeNull();
    expect(sleeper!.signalCode).toBeNull();
    expect(existsSync(file)).toBe(true);
  });
});

describe.skipIf(!hasProc)("serve()", () => {
  /** Runs fixtures/noOrphansServe.ts with `env` and stdin `stdin`; resolves once it serves on its socket. */
  async function served(env: Record<string, string>, stdin: "pipe" | "ignore"): Promise<{ child: ChildProcess; socket: string; exited: Promise<number | null> }> {
    const socket = join(tmp.dir, `served-${Date.now()}-${Math.random().toString(36).slice(2)}.sock`);
    const clean = { ...process.env };
    delete clean["HOOKPLUGINS_HOST_PIPE"];
    const child = spawn(process.execPath, [join(bin, "noOrphansServe.mjs")], { env: { ...clean, NO_ORPHANS_SOCKET: socket, ...env }, stdio: [stdin, "pipe", "inherit"] });
    started.push(child);
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    await new Promise<void>((r) => child.stdout!.once("data", () => r()));
    return { child, socket, exited };
  }

  /** Whether the server answers Plugin.Activate. */
  const answers = async (socket: string): Promise<boolean> => (await post(socket, "/Plugin.Activate").catch(() => undefined))?.status === 200;

  it("ends the process, removing its socket, when its stdin reaches end-of-file under HOOKPLUGINS_HOST_PIPE=stdin", async () => {
    const { child, socket, exited } = await served({ HOOKPLUGINS_HOST_PIPE: "stdin" }, "pipe");
    expect(await answers(socket)).toBe(true);
    child.stdin!.end(); // what the kernel does for a host that dies
    expect(await Promise.race([exited, sleep(2000).then(() => "still running")])).toBe(0);
    expect(existsSync(socket)).toBe(false);
  });

  it("keeps serving after its stdin ends when no host set HOOKPLUGINS_HOST_PIPE (run by hand)", async () => {
    const { child, socket } = await served({}, "pipe");
    child.stdin!.end();
    await sleep(500);
    expect(await answers(socket)).toBe(true);
  });

  it("keeps serving under HOOKPLUGINS_HOST_PIPE=stdin when stdin is /dev/null (as under systemd), not a pipe", async () => {
    const { socket } = await served({ HOOKPLUGINS_HOST_PIPE: "stdin" }, "ignore");
    await sleep(500);
    expect(await answers(socket)).toBe(true);
  });

  it("keeps serving after end-of-file with exitWithHost: false", async () => {
    const { child, socket } = await served({ HOOKPLUGINS_HOST_PIPE: "stdin", NO_ORPHANS_EXIT_WITH_HOST: "false" }, "pipe");
    child.stdin!.end();
    await sleep(500);
    expect(await answers(socket)).toBe(true);
  });
});
