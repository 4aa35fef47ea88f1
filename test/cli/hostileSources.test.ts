/**
 * No command ever ends without output or on a promise that never settles: every command of the program (its list
 * taken from the program itself, so a new command is covered) run by the built `hookplugins` in a project whose
 * external sources are unreachable (a spec file naming a socket that does not exist), garbled (a spec file of junk, a
 * socket answering junk) or slow (a socket that accepts and never answers).
 */
import { spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commandNames } from "../../src/cli/program.js";
import { builtPackage, makeProject, removeTemporaryFolders, type RunResult } from "./helpers.js";

const servers: Server[] = [];
beforeAll(async () => {
  await builtPackage();
}, 180_000);
afterAll(async () => {
  for (const server of servers) server.close();
  await removeTemporaryFolders();
});

/** The hostile external plugin the commands name, in every project below. */
const plugin = "hostile";

/** The commands that serve until a signal: they load the plugins as servers do (failing on one that cannot be loaded). */
const serving = new Set(["serve", "docker-plugin", "docker-proxy", "cri-proxy"]);

/** The arguments each command is run with in the project at `root` (every command of the program must be here). */
function argumentsOf(root: string): Record<string, string[]> {
  return {
    init: ["init"],
    module: ["module"],
    "plugin list": ["plugin", "list"],
    "plugin inspect": ["plugin", "inspect", plugin],
    "plugin enable": ["plugin", "enable", plugin],
    "plugin disable": ["plugin", "disable", plugin],
    "plugin install": ["plugin", "install", "./no-such-plugin"],
    "plugin uninstall": ["plugin", "uninstall", plugin],
    "plugin compile": ["plugin", "compile", "./no-such-plugin"],
    serve: ["serve", "./no-such-plugin", "--socket", join(root, "serve.sock")],
    explain: ["explain"],
    "docker-plugin": ["docker-plugin", "--name", "hp-test", "--authz", "--socket", join(root, "bridge.sock")],
    "docker-proxy": ["docker-proxy", "--listen", join(root, "proxy.sock"), "--upstream", `unix://${join(root, "engine.sock")}`],
    "cri-proxy": ["cri-proxy", "--listen", join(root, "cri.sock"), "--upstream", `unix://${join(root, "containerd.sock")}`],
    "runtime install": ["runtime", "install", "--runtime", "/bin/true", "--out", join(root, "wrapper", "hookplugins-runtime")],
    "runtime check": ["runtime", "check", join(root, "no-such-wrapper")],
  };
}

/** A socket in `dir` served by `onConnection` in this process. */
async function socketServer(path: string, onConnection: Parameters<typeof createServer>[1]): Promise<void> {
  const server = createServer(onConnection);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(path, resolve));
}

/** A project (no in-process plugins, no generated module) whose "external" sources are made by `setUp`. */
async function projectWith(setUp: (root: string) => Promise<void>): Promise<string> {
  const root = await makeProject();
  await writeFile(
    join(root, "hookplugins.json"),
    JSON.stringify({ plugins: [], generated: false, stateFile: ".hookplugins/state.json", installDir: "plugins", external: { specDirs: ["specs"], socketDirs: ["sockets"] } }),
  );
  await mkdir(join(root, "specs"));
  await mkdir(join(root, "sockets"));
  await setUp(root);
  return root;
}

/** Runs the built CLI and says how long it took; a run past `killAfterMs` is killed (and reported as such). */
async function timedCli(cwd: string, args: readonly string[], killAfterMs: number): Promise<RunResult & { ms: number; killed: boolean }> {
  const started = Date.now();
  const child = spawn(process.execPath, [join(await builtPackage(), "dist", "cli.js"), ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += String(chunk)));
  child.stderr.on("data", (chunk) => (stderr += String(chunk)));
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.kill("SIGKILL");
  }, killAfterMs);
  const code = await new Promise<number>((resolve) => child.once("close", (status) => resolve(status ?? -1)));
  clearTimeout(timer);
  return { code, stdout, stderr, ms: Date.now() - started, killed };
}

/** Each command's longest run: servers wait for an absent plugin as Docker does (15 s); the rest a few seconds. */
function boundMs(command: string): number {
  return serving.has(command) ? 40_000 : 20_000;
}

/** Runs every command of the program in `root`, two at a time, and checks that each ended with output and a status. */
async function everyCommandEnds(root: string): Promise<Map<string, RunResult>> {
  const args = argumentsOf(root);
  const names = commandNames();
  expect(Object.keys(args).sort(), "every command of the program has arguments in this test").toEqual([...names].sort());
  const results = new Map<string, RunResult>();
  const queue = [...names];
  const worker = async (): Promise<void> => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      const result = await timedCli(root, args[name]!, boundMs(name));
      const seen = `${name}: status ${result.code} after ${result.ms} ms\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
      expect(result.killed, `${seen}\n(it did not end within ${boundMs(name)} ms)`).toBe(false);
      expect(result.code, seen).not.toBe(13);
      expect(result.stdout + result.stderr, seen).not.toBe("");
      expect(result.stderr, seen).not.toContain("internal error");
      results.set(name, result);
    }
  };
  await Promise.all([worker(), worker()]);
  return results;
}

describe("every command against hostile external plugin sources", () => {
  it("ends with output when a spec file names a socket that does not exist, and the showing commands name the plugin", async () => {
    const root = await projectWith(async (dir) => writeFile(join(dir, "specs", `${plugin}.spec`), `unix://${join(dir, "nothing-here.sock")}\n`));
    const results = await everyCommandEnds(root);
    for (const name of ["plugin list", "explain"]) {
      expect(results.get(name)!.code, name).toBe(0);
      expect(results.get(name)!.stdout, name).toContain(`${plugin}  spec    ${join(root, "specs", `${plugin}.spec`)}`);
    }
    for (const name of ["docker-plugin", "docker-proxy", "cri-proxy"]) {
      expect(results.get(name)!.code, name).toBe(1);
      expect(results.get(name)!.stderr, name).toContain(`cannot load external plugin "${plugin}"`);
    }
  }, 240_000);

  it("ends with output when a spec file holds junk and a socket answers junk", async () => {
    const root = await projectWith(async (dir) => {
      await writeFile(join(dir, "specs", `${plugin}.spec`), "\u0000\u0001 not a URL {{{");
      await socketServer(join(dir, "sockets", "babbler.sock"), (socket) => socket.on("data", () => socket.end("NOT HTTP AT ALL\r\n\r\n")));
    });
    const results = await everyCommandEnds(root);
    for (const name of ["plugin list", "explain"]) {
      expect(results.get(name)!.code, name).toBe(0);
      expect(results.get(name)!.stdout, name).toMatch(new RegExp(`${plugin} +spec +\\S+${plugin}.spec +plugin address`));
      expect(results.get(name)!.stdout, name).toMatch(/babbler +socket +\S+babbler\.sock +the connection to the plugin broke during Plugin\.Activate/);
    }
  }, 240_000);

  it("ends with output when a socket accepts and never answers", async () => {
    const root = await projectWith(async (dir) => socketServer(join(dir, "sockets", `${plugin}.sock`), () => undefined));
    const results = await everyCommandEnds(root);
    for (const name of ["plugin list", "explain"]) {
      expect(results.get(name)!.code, name).toBe(0);
      expect(results.get(name)!.stdout, name).toMatch(new RegExp(`${plugin} +socket +\\S+${plugin}.sock +it did not answer activation within 3000 ms`));
    }
  }, 240_000);
});
