import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, expect, it } from "vitest";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

interface Run {
  code: number;
  stdout: string;
}

let run: Run;
beforeAll(async () => {
  run = await new Promise<Run>((resolve) => {
    execFile("npx", ["tsx", "examples/quickstart/main.ts"], { cwd: repoRoot, timeout: 60_000 }, (error, stdout) => {
      resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout });
    });
  });
}, 70_000);

/** Whether `pid` runs; a zombie counts as gone. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

function lineIndex(pattern: RegExp): number {
  return run.stdout.split("\n").findIndex((line) => pattern.test(line));
}

it("exits 0", () => {
  expect(run.code).toBe(0);
});

it("prints the merged prestart list with the plugin at 10 before the network hook at 0 before the plugin at -5", () => {
  const early = lineIndex(/\[ 10\] prestart-early/);
  const network = lineIndex(/\[  0\] network \(host builtin\)/);
  const late = lineIndex(/\[ -5\] prestart-late/);
  expect(early).toBeGreaterThan(0);
  expect(network).toBe(early + 1);
  expect(late).toBe(network + 1);
});

it("shows the hooks ran in that order, as the trace file they wrote says", () => {
  expect(run.stdout).toMatch(/prestart\.trace: prestart-early -> network -> prestart-late/);
});

it("shows envlimits moving the limits from Env into HostConfig", () => {
  expect(run.stdout).toContain("+ HostConfig.Memory: 536870912");
  expect(run.stdout).toContain("+ HostConfig.CpuShares: 512");
  expect(run.stdout).toContain('-> ["TZ=UTC","GREETING=hello"]');
});

it("traces every hook point of the walk-through with the plugins that ran", () => {
  const headers = run.stdout.split("\n").filter((line) => line.startsWith("== ")).map((line) => /\[(.*)\]$/.exec(line)?.[1]);
  expect(headers).toEqual([
    "DaemonPlugin.preStartHook",
    "ContainerPlugin.preCreate",
    "ContainerPlugin.preCreate",
    "ContainerPlugin.preCreateEndpoint",
    "ContainerPlugin.preStart",
    "ContainerPlugin.preUpdate",
    "ContainerPlugin.postUpdate",
    "DaemonPlugin.preStopHook",
  ]);
  expect(run.stdout).toMatch(/ran: {3}prestart-early ok [\d.]+ms, prestart-late ok/);
});

it("leaves no helper process behind", () => {
  const pid = Number(/helper process up: pid (\d+)/.exec(run.stdout)?.[1]);
  expect(pid).toBeGreaterThan(0);
  expect(run.stdout).toContain(`helper pid ${pid} is gone`);
  expect(alive(pid)).toBe(false);
});
