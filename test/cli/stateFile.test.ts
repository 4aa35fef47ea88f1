/**
 * The plugin state file module: atomic, locked read-modify-write shared by processes.
 */
import { readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { disabledFromStateFile, PluginStateError, setPluginsEnabled } from "../../src/state/index.js";
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
