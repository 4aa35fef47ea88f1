/**
 * The plugin state file module: atomic, locked read-modify-write shared by processes.
 */
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createHost, createRegistry, PluginStateError } from "../../src/index.js";
import { disabledFromStateFile, setPluginsEnabled } from "../../src/state/index.js";
import { removeTemporaryFolders, repoRoot, run, temporaryFolder } from "./helpers.js";

afterAll(removeTemporaryFolders);

const worker = `
import { setPluginsEnabled } from ${JSON.stringify(join(repoRoot, "src/state/index.ts"))};
const [file, prefix] = process.argv.slice(2);
for (let i = 0; i < 25; i++) await setPluginsEnabled(file, [prefix + i], false);
`;

describe("plugin state file", () => {
  it("keeps every update of two processes that update it at the same time", async () => {
    const dir = await temporaryFolder("hookplugins-state-");
    const file = join(dir, "state.json");
    await writeFile(join(dir, "worker.mts"), worker);
    const tsx = join(repoRoot, "node_modules/.bin/tsx");
    const results = await Promise.all(["a", "b"].map((prefix) => run(tsx, [join(dir, "worker.mts"), file, prefix], dir)));
    expect(results.map((r) => r.stderr)).toEqual(["", ""]);
    expect(disabledFromStateFile(file)).toHaveLength(50);
    expect((await readdir(dir)).sort()).toEqual(["state.json", "worker.mts"]);
  }, 60_000);

  it("reads a missing file as every plugin enabled", () => {
    expect(disabledFromStateFile(join(tmpdir(), "hookplugins-no-such-dir", "state.json"))).toEqual([]);
  });

  it("throws PluginStateError on a file of the wrong shape and leaves it as it is", async () => {
    const dir = await temporaryFolder("hookplugins-state-");
    const file = join(dir, "state.json");
    await writeFile(file, '{"version": 1, "disabled": "alpha"}');
    await expect(setPluginsEnabled(file, ["beta"], false)).rejects.toThrow(PluginStateError);
    expect(await readFile(file, "utf8")).toBe('{"version": 1, "disabled": "alpha"}');
    expect(() => disabledFromStateFile(file)).toThrow(/"disabled": an array of plugin names/);
  });

  it("takes over a lock left by a process that no longer exists", async () => {
    const dir = await temporaryFolder("hookplugins-state-");
    const file = join(dir, "state.json");
    await writeFile(`${file}.lock`, JSON.stringify({ pid: 2 ** 22 + 12345, host: (await import("node:os")).hostname() }));
    await setPluginsEnabled(file, ["alpha"], false);
    expect(disabledFromStateFile(file)).toEqual(["alpha"]);
  });
});

describe("createHost({ stateFile })", () => {
  const registry = () => {
    const r = createRegistry();
    r.registerContainerPlugin({ name: "alpha", preCreate: (_ctx, config) => ({ ...config, Env: ["ALPHA=1"] }) });
    return r;
  };

  it("enables every plugin when the state file does not exist", async () => {
    const dir = await temporaryFolder("hookplugins-state-");
    const host = createHost({ registry: registry(), stateFile: join(dir, "state.json") });
    expect((await host.container.preCreate({ Image: "x" })).Env).toEqual(["ALPHA=1"]);
    host.close();
  });

  it("skips the plugins the state file disables", async () => {
    const dir = await temporaryFolder("hookplugins-state-");
    await setPluginsEnabled(join(dir, "state.json"), ["alpha"], false);
    const host = createHost({ registry: registry(), stateFile: join(dir, "state.json") });
    expect((await host.container.preCreate({ Image: "x" })).Env).toBeUndefined();
    host.close();
  });

  it("throws PluginStateError naming a corrupt state file and the fix, instead of starting with every plugin enabled", async () => {
    const dir = await temporaryFolder("hookplugins-state-");
    const file = join(dir, "state.json");
    await writeFile(file, '{"version": 1, "disabled": ["alp');
    const start = (): unknown => createHost({ registry: registry(), stateFile: file });
    expect(start).toThrow(PluginStateError);
    expect(start).toThrow(`plugin state file ${file} is not valid JSON`);
    expect(start).toThrow("; fix it or delete it (deleting enables every plugin)");
  });

  it("throws PluginStateError when the state file exists but cannot be read", async () => {
    const dir = await temporaryFolder("hookplugins-state-");
    const file = join(dir, "state.json");
    await mkdir(file); // a folder where the file should be: EISDIR, which root cannot read either
    let error: unknown;
    try {
      createHost({ registry: registry(), stateFile: file });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(PluginStateError);
    expect((error as PluginStateError).path).toBe(file);
    expect((error as Error).message).toMatch(new RegExp(`^plugin state file ${file} cannot be read \\(EISDIR: .*\\); fix it or delete it`));
    expect((error as Error).cause).toMatchObject({ code: "EISDIR" });
  });

  it("leaves a state file it cannot read as it is when the CLI tries to update it", async () => {
    const dir = await temporaryFolder("hookplugins-state-");
    const file = join(dir, "state.json");
    await mkdir(file);
    await expect(setPluginsEnabled(file, ["alpha"], false)).rejects.toThrow(PluginStateError);
    expect(await readdir(file)).toEqual([]);
  });
});
