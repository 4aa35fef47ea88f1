/**
 * The built CLI's help, and the commands whose code it loads only when they run: `cri-proxy` imports the CRI relay
 * (dist/cri.js) on first use, and `docker-proxy` and `docker-plugin` the proxy's and the bridge's chunks, so
 * `hookplugins --help` and the commands that only show things never load them.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { criRelayMarker, dockerEdgeMarkers, filesHolding, folderFilesHolding, runRecordingLoads } from "../support/loadedModules.js";
import { builtPackage, cli, makeProject, removeTemporaryFolders } from "./helpers.js";

let cliFile: string;

beforeAll(async () => {
  cliFile = join(await builtPackage(), "dist", "cli.js");
}, 120_000);
afterAll(removeTemporaryFolders);

describe("hookplugins --help", () => {
  it("lists cri-proxy beside docker-proxy", async () => {
    const result = await cli(await makeProject(), "--help");
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/\n {2}docker-proxy \[options\] +serve the Docker Engine API/);
    expect(result.stdout).toMatch(/\n {2}cri-proxy \[options\] +relay the Kubernetes CRI between the kubelet/);
  });

  it("shows cri-proxy's flags in `hookplugins cri-proxy --help`", async () => {
    const result = await cli(await makeProject(), "cri-proxy", "--help");
    expect(result.code, result.stderr).toBe(0);
    for (const flag of ["--listen <socket>", "--upstream <address>", "--timeout <ms>", "--max-message-bytes <n>", "--snapshotter <name>"]) expect(result.stdout).toContain(flag);
  });
});

describe("the CRI relay's code in the built CLI", () => {
  it("is only in the hookplugins/cri builds, which the CLI imports, not in a copy of its own", async () => {
    const holding = await folderFilesHolding(join(cliFile, ".."), criRelayMarker);
    expect(holding.map((file) => file.slice(file.lastIndexOf("/") + 1)).sort()).toEqual(["cri.cjs", "cri.js"]);
  });

  for (const args of [["--help"], ["cri-proxy", "--help"], ["plugin", "list"], ["explain"]]) {
    it(`is not loaded by \`hookplugins ${args.join(" ")}\``, async () => {
      const result = await runRecordingLoads([cliFile, ...args], await makeProject());
      expect(result.code, result.stderr).toBe(0);
      expect(result.loaded).toContain(cliFile);
      expect(await filesHolding(result.loaded, criRelayMarker)).toEqual([]);
    });
  }

  for (const args of [["--help"], ["plugin", "list"], ["explain"]]) {
    it(`leaves the Docker proxy's and bridge's code unloaded in \`hookplugins ${args.join(" ")}\``, async () => {
      const result = await runRecordingLoads([cliFile, ...args], await makeProject());
      expect(result.code, result.stderr).toBe(0);
      for (const marker of dockerEdgeMarkers) expect(await filesHolding(result.loaded, marker), marker).toEqual([]);
    });
  }

  it("is loaded when cri-proxy runs (as far as its address check)", async () => {
    const result = await runRecordingLoads([cliFile, "cri-proxy", "--listen", "/tmp/never.sock", "--upstream", "tcp://127.0.0.1:1"], await makeProject());
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--upstream: the runtime address");
    expect(await filesHolding(result.loaded, criRelayMarker)).toEqual([expect.stringMatching(/\/dist\/cri\.js$/)]);
  });
});
