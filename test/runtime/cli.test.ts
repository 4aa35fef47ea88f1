/**
 * `hookplugins runtime install` and `hookplugins runtime check` from the command line (the CLI's source under tsx).
 */
import { appendFileSync, chmodSync, existsSync, readFileSync, statSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeProbeProject, removeTempDirs, repoRoot, runFile, tempDir, writeFakeRuntime, type RunResult } from "./helpers.js";

let dir: string;
let project: string;
let runtime: string;

function cli(args: readonly string[]): Promise<RunResult> {
  return runFile(process.execPath, ["--import", "tsx", join(repoRoot, "src/cli/main.ts"), ...args], { cwd: repoRoot, timeoutMs: 60_000 });
}

beforeAll(async () => {
  dir = await tempDir();
  project = await makeProbeProject(dir, join(dir, "trace"));
  runtime = (await writeFakeRuntime(dir)).path;
});
afterAll(() => removeTempDirs());

describe("hookplugins runtime install", () => {
  it("writes an executable wrapper and its plugin step beside it, and says how each engine uses it", async () => {
    const out = join(dir, "a", "hp-runc");
    const result = await cli(["-C", project, "runtime", "install", "--runtime", runtime, "--out", out]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o755);
    expect(statSync(`${out}.mjs`).mode & 0o777).toBe(0o644);
    expect(result.stdout).toContain(`Installed the runtime wrapper ${out}: it calls ${runtime}, with 2 plugins (./plugins/probe-early, ./plugins/probe-late)`);
    expect(result.stdout).toContain(`"runtimes": {"hp": {"path": "${out}"}}`);
    expect(result.stdout).toContain(`ctr run --runc-binary ${out}`);
    expect(result.stdout).toContain(`podman --runtime ${out}`);
  }, 60_000);

  it("puts hookplugins-runtime into a folder --out names, and prints the record with --json", async () => {
    const folder = join(dir, "b");
    await mkdir(folder);
    const result = await cli(["-C", project, "--json", "runtime", "install", "--runtime", runtime, "--out", folder, "--timeout", "2500", "--handoff-dir", join(dir, "h")]);
    expect(result.code).toBe(0);
    const record = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(record).toMatchObject({
      wrapper: join(folder, "hookplugins-runtime"),
      step: join(folder, "hookplugins-runtime.mjs"),
      runtime,
      node: process.execPath,
      handoffDir: join(dir, "h"),
      timeoutMs: 2500,
      stateFile: join(project, ".hookplugins/state.json"),
      plugins: ["./plugins/probe-early", "./plugins/probe-late"],
    });
  }, 60_000);

  it("is a usage error without --runtime", async () => {
    const result = await cli(["-C", project, "runtime", "install", "--out", join(dir, "c")]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("hookplugins: error: required option '--runtime <path>' not specified");
    expect(result.stderr).toContain("run `hookplugins runtime install --help` for usage");
  });

  it("refuses a real runtime that is not an executable file, and writes nothing", async () => {
    const out = join(dir, "d", "hp");
    const result = await cli(["-C", project, "runtime", "install", "--runtime", join(dir, "nope"), "--out", out]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`hookplugins: error: --runtime ${join(dir, "nope")} is not an executable file; give the real OCI runtime, e.g. /usr/sbin/runc\n`);
    expect(existsSync(out)).toBe(false);
  });

  it("refuses a destination that users other than root can write, and writes nothing", async () => {
    const folder = join(dir, "open");
    await mkdir(folder);
    chmodSync(folder, 0o777);
    const result = await cli(["-C", project, "runtime", "install", "--runtime", runtime, "--out", join(folder, "hp")]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`refusing to run: ${folder} (on the way to the wrapper script) is writable by its group or by others (mode 0777)`);
    expect(existsSync(join(folder, "hp"))).toBe(false);
  });
});

describe("hookplugins runtime check", () => {
  it("says Ready for a wrapper as installed", async () => {
    const out = join(dir, "e", "hp");
    expect((await cli(["-C", project, "runtime", "install", "--runtime", runtime, "--out", out])).code).toBe(0);
    const result = await cli(["runtime", "check", out]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Wrapper: ${out}\nReal runtime: ${runtime}`);
    expect(result.stdout).toMatch(/\nReady\.\n$/);
  }, 60_000);

  it("fails for a wrapper edited after the install, saying to install it again", async () => {
    const out = join(dir, "e", "hp");
    appendFileSync(out, "# edited\n");
    const result = await cli(["runtime", "check", out]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`hookplugins: error: ${out} was changed after it was installed; install it again instead of editing it\n`);
    expect(readFileSync(out, "utf8")).toContain("# edited");
  });

  it("fails for a file that is not a wrapper", async () => {
    const result = await cli(["runtime", "check", runtime]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${runtime} has no "# hookplugins-runtime-wrapper:" line: it was not written by \`hookplugins runtime install\``);
  });
});
