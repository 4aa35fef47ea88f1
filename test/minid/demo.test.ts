import { execFile, spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { canRunRunc, repoRoot } from "./helpers.js";

function runDemo(args: string[] = []): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", "examples/minid/demo.ts", ...args], { cwd: repoRoot, timeout: 25_000 }, (err, out) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout: out }),
    );
  });
}

const hookPointsMinidRuns = [
  "DaemonPlugin.preStartHook",
  "APIPlugin.updateHandler",
  "VolumePlugin.preVolumeCreate",
  "ContainerPlugin.preCreate",
  "ContainerPlugin.preCreateEndpoint",
  "ImagePlugin.resolveImage",
  "ContainerPlugin.preStart",
  "ContainerPlugin.postStart",
  "ContainerPlugin.onExit",
  "ContainerPlugin.preUpdate",
  "ContainerPlugin.postUpdate",
  "ImagePlugin.postPull",
  "DaemonPlugin.preStopHook",
];

describe("the npm start demo", () => {
  it("runs a container through minid, shows each hook point as it fires and shuts down cleanly", async () => {
    const { code, stdout } = await runDemo();
    expect(code).toBe(0);
    for (const hook of hookPointsMinidRuns) expect(stdout).toContain(`hook point ${hook}`);
    expect(stdout).toContain("SIGTERM received");
    expect(stdout).toContain("minid: stopped cleanly");
    if (canRunRunc) expect(stdout).toContain("runc ran the prestart hooks in this order: prestart-early -> network -> prestart-late");
  }, 30_000);

  it("names files by their path from the repo root and labels every value it prints", async () => {
    const { stdout } = await runDemo(["--dry-run"]);
    expect(stdout).toContain("examples/minid/src/plugins.generated.ts");
    expect(stdout).toContain("hooks.prestart[0] = hookplugins/prestarthooks/trace-hook.sh prestart-early");
    expect(stdout).not.toContain(repoRoot);
    const commands = stdout.split("\n").filter((line) => /^(\$ docker|> (GET|POST|DELETE)) /.test(line));
    expect(commands.length).toBeGreaterThan(5);
    for (const line of commands) expect(line).toMatch(/ {4}# \S/);
  }, 30_000);

  it("shows the bundled plugins running their hooks", async () => {
    const { stdout } = await runDemo(["--dry-run"]);
    expect(stdout).toContain('plugin "envlimits" runs ContainerPlugin.preCreate');
    expect(stdout).toContain('plugin "helperprocess" runs DaemonPlugin.preStartHook');
    expect(stdout).toContain('plugin "prestart-early" runs ContainerPlugin.preStart');
  }, 30_000);

  it("Ctrl-C (SIGINT) while the demo starts stops its daemon cleanly and exits 0", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "examples/minid/demo.ts", "--dry-run"], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    let sent = false;
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      // printed before the daemon starts
      if (!sent && output.includes("state directory")) sent = child.kill("SIGINT");
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    expect(code).toBe(0);
    expect(output).toContain("minid: SIGINT received, shutting down");
    expect(output).toContain("hook point DaemonPlugin.preStopHook");
    expect(output).toContain("minid: stopped cleanly");
  }, 30_000);

  it("in dry-run mode writes the bundle and prints the runc command it would run", async () => {
    const { code, stdout } = await runDemo(["--dry-run"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/dry-run: would run: runc --root \S+ run --bundle \S+ [0-9a-f]{64}/);
    expect(stdout).toContain("hooks.prestart[0] = ");
    expect(stdout).toContain("minid: stopped cleanly");
    expect(stdout).toContain("This was a dry run (dry-run was requested)");
  }, 30_000);
});
