/**
 * The CLI and external plugins, with the built `hookplugins` executable: `serve`, `plugin compile --executable`, and
 * `plugin list`, `inspect`, `explain`, `disable` seeing the external plugins a project declares in hookplugins.json.
 */
import { existsSync, statSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHost, createRegistry } from "hookplugins";
import { loadExternalPlugins } from "hookplugins/external";
import { builtPackage, cli, containerPlugin, makeProject, removeTemporaryFolders, writePlugin } from "./helpers.js";
import { killServeProcesses, startServe } from "./serveProcess.js";

beforeAll(async () => {
  await builtPackage();
}, 120_000);
afterAll(async () => {
  killServeProcesses();
  await removeTemporaryFolders();
});

function accepts(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(socketPath);
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });
}

describe("hookplugins serve", () => {
  it("serves a plugin folder on a socket (mode 0600) until SIGTERM, then removes the socket", async () => {
    const root = await makeProject();
    await writePlugin(root, "plugins/alpha", containerPlugin("alpha", 3));
    const socket = join(root, "alpha.sock");
    const { child, output, exit } = await startServe(root, ["./plugins/alpha", "--socket", socket]);
    expect(output()).toBe(`Serving plugin "alpha" on unix://${socket} (stop with SIGTERM or Ctrl-C).\n`);
    expect(await accepts(socket)).toBe(true);
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    const registry = createRegistry();
    const external = await loadExternalPlugins(registry, { socketDirs: [root] });
    expect(await createHost({ registry }).container.preCreate({ Image: "x" })).toEqual({ Image: "x", Env: ["PLUGIN_ALPHA=1"] });
    expect(registry.list()[0]).toMatchObject({ name: "alpha", priority: 3 });
    await external.close();
    child.kill("SIGTERM");
    expect(await exit).toBe(0);
    expect(existsSync(socket)).toBe(false);
  });

  it("is a usage error without --socket or --port", async () => {
    const root = await makeProject();
    await writePlugin(root, "plugins/alpha", containerPlugin("alpha"));
    const result = await cli(root, "serve", "./plugins/alpha");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("serve needs exactly one of --socket <path> or --port <n>");
  });
});

describe("hookplugins plugin compile --executable", () => {
  it("makes an executable that answers `capabilities` and `serve --socket`, which a host runs as an executable plugin", async () => {
    const root = await makeProject();
    await writePlugin(root, "plugins/alpha", containerPlugin("alpha", 7));
    const compiled = await cli(root, "plugin", "compile", "./plugins/alpha", "--executable", "-o", "bin/alpha.hookplugin.mjs");
    expect(compiled).toMatchObject({ code: 0, stderr: "" });
    expect(compiled.stdout).toBe('Compiled plugin "alpha" 1.0.0 into the executable bin/alpha.hookplugin.mjs.\n');
    const exe = join(root, "bin", "alpha.hookplugin.mjs");
    expect(statSync(exe).mode & 0o111).not.toBe(0);
    const registry = createRegistry();
    const external = await loadExternalPlugins(registry, { executableDirs: [join(root, "bin")] });
    const host = createHost({ registry, external });
    try {
      expect(external.list()[0]).toMatchObject({ name: "alpha", running: false, source: { kind: "executable", location: exe } });
      expect(await host.container.preCreate({ Image: "x" })).toEqual({ Image: "x", Env: ["PLUGIN_ALPHA=1"] });
      expect(external.list()[0]!.running).toBe(true);
    } finally {
      await host.close();
    }
    expect(external.list()).toEqual([]);
  });
});

describe("a project's external plugins in the CLI", () => {
  async function projectWithExternal(): Promise<{ root: string; socket: string; stop(): Promise<void> }> {
    const root = await makeProject();
    await writePlugin(root, "plugins/alpha", containerPlugin("alpha", 0));
    await writePlugin(root, "remote-src/remote", containerPlugin("remote", 0));
    expect((await cli(root, "module", "--add-plugin=./plugins/alpha")).stderr).toBe("");
    const manifest = JSON.parse(await readFile(join(root, "hookplugins.json"), "utf8")) as Record<string, unknown>;
    await writeFile(join(root, "hookplugins.json"), JSON.stringify({ ...manifest, external: { socketDirs: ["sockets"] } }, null, 2));
    await mkdir(join(root, "sockets"));
    const socket = join(root, "sockets", "remote.sock");
    const served = await startServe(root, ["./remote-src/remote", "--socket", socket]);
    return {
      root,
      socket,
      stop: async () => {
        served.child.kill("SIGTERM");
        await served.exit;
      },
    };
  }

  it("plugin list shows them with their source and whether they are reachable", async () => {
    const { root, socket, stop } = await projectWithExternal();
    try {
      const result = await cli(root, "plugin", "list");
      expect(result.stderr).toBe("");
      expect(result.stdout).toBe(
        ["ENABLED  NAME", "    yes  alpha", "", "External plugins:", "ENABLED  NAME    SOURCE  PROCESS    LOCATION", `    yes  remote  socket  listening  ${socket}`, ""].join("\n"),
      );
    } finally {
      await stop();
    }
  });

  it("plugin inspect shows an external plugin's capabilities and source", async () => {
    const { root, socket, stop } = await projectWithExternal();
    try {
      const result = await cli(root, "plugin", "inspect", "remote");
      expect(result.stdout).toContain("Name: remote\n");
      expect(result.stdout).toContain(`Source: socket ${socket}\nProcess: listening\n`);
      expect(result.stdout).toContain("  ContainerPlugin (priority 0): preCreate\n");
    } finally {
      await stop();
    }
  });

  it("explain puts them in the one order, after compiled-in plugins at equal priority, with their source", async () => {
    const { root, socket, stop } = await projectWithExternal();
    try {
      const result = await cli(root, "explain", "preCreate");
      expect(result.stdout).toBe(
        ["ContainerPlugin.preCreate (waterfall)", "  PRIORITY  PLUGIN  STATE    SOURCE", "  0         alpha   enabled  ./plugins/alpha", `  0         remote  enabled  socket ${socket}`, ""].join("\n"),
      );
    } finally {
      await stop();
    }
  });

  it("plugin disable accepts an external plugin's name, and explain shows it disabled; module edits keep the external key", async () => {
    const { root, stop } = await projectWithExternal();
    try {
      expect((await cli(root, "plugin", "disable", "remote")).stdout).toBe('Disabled plugin "remote".\n');
      expect((await cli(root, "explain", "preCreate", "--json")).stdout).toContain('"enabled": false');
      await cli(root, "module");
      expect(JSON.parse(await readFile(join(root, "hookplugins.json"), "utf8")).external).toEqual({ socketDirs: ["sockets"] });
    } finally {
      await stop();
    }
  });
});
