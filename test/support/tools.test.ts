import { execFile } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findExecutable, installHints } from "./tools.js";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

/** Runs `node args` in the repo with `env` added; resolves with the exit code and all output. */
function runNode(args: string[], env: Record<string, string>): Promise<{ code: number; output: string }> {
  const clean = { ...process.env, HOOKPLUGINS_TEST_NO: "", HOOKPLUGINS_REQUIRE_ALL_TOOLS: "", NO_COLOR: "1", ...env };
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: repoRoot, env: clean, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, output: `${stdout}${stderr}`.replace(/\x1b\[[0-9;]*m/g, "") }),
    );
  });
}

describe("findExecutable", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hookplugins-tools-"));
    for (const sub of ["a", "b"]) await mkdir(join(dir, sub));
    await writeFile(join(dir, "a", "hookplugins-probe-tool"), "not executable\n");
    await writeFile(join(dir, "b", "hookplugins-probe-tool"), "#!/bin/sh\n");
    await chmod(join(dir, "b", "hookplugins-probe-tool"), 0o755);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("finds an executable on the given PATH, passing over a same-named file that cannot be executed", () => {
    expect(findExecutable("hookplugins-probe-tool", `${join(dir, "a")}:${join(dir, "b")}`)).toBe(join(dir, "b", "hookplugins-probe-tool"));
  });

  it("answers undefined for a program that is nowhere", () => {
    expect(findExecutable("hookplugins-no-such-tool", join(dir, "a"))).toBeUndefined();
  });
});

describe("tests that need a tool", () => {
  const vitest = [join(repoRoot, "node_modules/vitest/vitest.mjs"), "run", "--config", "test/support/fixtures/fixtures.config.ts"];

  it("are skipped with the tool and its apt package printed when the tool is missing, and the run passes", async () => {
    const { code, output } = await runNode([...vitest, "needsTools"], { HOOKPLUGINS_TEST_NO: "runc" });
    expect(code).toBe(0);
    expect(output).toContain(`needs runc (${installHints.runc}): 2 test(s)`);
    expect(output).toMatch(/Tests +1 passed \| 2 skipped \(3\)/);
  }, 60_000);

  it("fail, naming the tool, under HOOKPLUGINS_REQUIRE_ALL_TOOLS=1 (as in CI)", async () => {
    const { code, output } = await runNode([...vitest, "needsTools"], { HOOKPLUGINS_TEST_NO: "runc", HOOKPLUGINS_REQUIRE_ALL_TOOLS: "1" });
    expect(code).not.toBe(0);
    expect(output).toContain("MissingToolError");
    expect(output).toContain("needs runc");
  }, 60_000);

  it("skip notes that start with 'optional:' do not fail a CI run", async () => {
    const { code, output } = await runNode([...vitest, "optionalSkip"], { HOOKPLUGINS_REQUIRE_ALL_TOOLS: "1" });
    expect(output).toContain("optional: the fixture's data is not there: 1 test(s)");
    expect(code).toBe(0);
  }, 60_000);
});
