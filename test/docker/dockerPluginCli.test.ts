/**
 * `hookplugins docker-plugin` as a process, on a socket of its own (no dockerd needed): usage errors, the project's
 * plugins served, the state file honoured, external plugins the project lists, clean shutdown.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { post } from "../external/helpers.js";

const repoRoot = resolve(fileURLToPath(import.meta.url), "../../..");
const cli = join(repoRoot, "src/cli/main.ts");

interface Proc {
  child: ChildProcess;
  output(): string;
  exit: Promise<number | null>;
}

const procs: Proc[] = [];
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "hpdpc-"));
});
afterEach(async () => {
  for (const p of procs.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
    await p.exit;
  }
  await rm(dir, { recursive: true, force: true });
});

function start(args: readonly string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(process.execPath, ["--import", "tsx", cli, ...args], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (output += c.toString()));
  const proc = { child, output: () => output, exit: new Promise<number | null>((r) => child.once("exit", (code) => r(code))) };
  procs.push(proc);
  return proc;
}

async function until(proc: Proc, text: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!proc.output().includes(text)) {
    if (proc.child.exitCode !== null || Date.now() > deadline) throw new Error(`no "${text}" in:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function project(manifest: Record<string, unknown>): Promise<string> {
  const root = join(dir, "project");
  await mkdir(root, { recursive: true });
  await writeFile(join(root, "hookplugins.json"), JSON.stringify({ generated: false, ...manifest }));
  return root;
}

const privilegedCreate = JSON.stringify({
  RequestMethod: "POST",
  RequestUri: "/v1.41/containers/create?name=x",
  RequestBody: Buffer.from(JSON.stringify({ Image: "bb", HostConfig: { Privileged: true } })).toString("base64"),
});

describe("hookplugins docker-plugin", () => {
  it("exits with status 2 and says what to add when it would serve nothing", async () => {
    const p = start(["-C", await project({ plugins: [] }), "docker-plugin", "--name", "x", "--socket", join(dir, "s.sock")]);
    expect(await p.exit).toBe(2);
    expect(p.output()).toContain("docker-plugin serves nothing: give --authz, --volume-driver, or both");
  });

  it("exits with status 2 when --volume-driver has no --volume-root", async () => {
    const p = start(["-C", await project({ plugins: [] }), "docker-plugin", "--name", "x", "--volume-driver", "--socket", join(dir, "s.sock")]);
    expect(await p.exit).toBe(2);
    expect(p.output()).toContain("--volume-driver needs --volume-root <dir>");
  });

  it("serves the project's plugins on its socket and stops cleanly on SIGTERM, removing the socket", async () => {
    const root = await project({ plugins: [join(repoRoot, "hookplugins/envlimits"), join(repoRoot, "hookplugins/policy")] });
    const socket = join(dir, "bridge.sock");
    const p = start(["-C", root, "docker-plugin", "--name", "hpcli", "--authz", "--volume-driver", "--volume-root", join(dir, "vols"), "--socket", socket], {
      HOOKPLUGINS_POLICY: '{"denyPrivileged": true}',
    });
    await until(p, "Serving");
    expect(p.output()).toContain(`Serving envlimits, policy as Docker plugin "hpcli" (authz, VolumeDriver) on ${socket}; on change: deny.`);
    expect((await post(socket, "/Plugin.Activate")).json).toEqual({ Implements: ["authz", "VolumeDriver"] });
    const reply = (await post(socket, "/AuthZPlugin.AuthZReq", privilegedCreate)).json as { Allow: boolean; Msg: string };
    expect(reply.Allow).toBe(false);
    expect(reply.Msg).toContain('plugin "policy" failed in ContainerPlugin.preCreate: policy rule denyPrivileged');
    p.child.kill("SIGTERM");
    expect(await p.exit).toBe(0);
    expect(p.output()).toContain('SIGTERM received: stopped serving Docker plugin "hpcli".');
    expect(existsSync(socket)).toBe(false);
  });

  it("skips the plugins the state file disables", async () => {
    const root = await project({ plugins: [join(repoRoot, "hookplugins/policy")], stateFile: "state.json" });
    await writeFile(join(root, "state.json"), JSON.stringify({ version: 1, disabled: ["policy"] }));
    const socket = join(dir, "bridge.sock");
    const p = start(["-C", root, "docker-plugin", "--name", "hpcli", "--authz", "--socket", socket], { HOOKPLUGINS_POLICY: '{"denyPrivileged": true}' });
    await until(p, "Serving");
    expect(p.output()).toContain("Serving no plugins as Docker plugin");
    expect((await post(socket, "/AuthZPlugin.AuthZReq", privilegedCreate)).json).toEqual({ Allow: true });
  });

  it("serves the external plugins the project lists: policy served out of process by `hookplugins serve`", async () => {
    const sockets = join(dir, "sockets");
    await mkdir(sockets);
    const served = start(["serve", join(repoRoot, "hookplugins/policy"), "--socket", join(sockets, "policy.sock")], { HOOKPLUGINS_POLICY: '{"denyPrivileged": true}' });
    await until(served, "Serving plugin");
    const root = await project({ plugins: [], external: { socketDirs: [sockets] } });
    const socket = join(dir, "bridge.sock");
    const p = start(["-C", root, "docker-plugin", "--name", "hpcli", "--authz", "--socket", socket]);
    await until(p, "Serving");
    expect(p.output()).toContain('Serving policy as Docker plugin "hpcli"');
    const reply = (await post(socket, "/AuthZPlugin.AuthZReq", privilegedCreate)).json as { Allow: boolean; Msg: string };
    expect(reply.Allow).toBe(false);
    expect(reply.Msg).toContain('plugin "policy" failed in ContainerPlugin.preCreate: policy rule denyPrivileged: privileged containers are not allowed');
  });
});
