import { afterEach, expect, it, vi } from "vitest";
import type { ContainerExit, ContainerJSON, PluginRegistry } from "hookplugins";
import { itWithTools } from "../support/tools.js";
import { startTestDaemon, type TestDaemon } from "./helpers.js";

/** What an observer plugin saw. */
interface Seen {
  postStart: ContainerJSON[];
  onExit: Array<{ container: ContainerJSON; exit: ContainerExit }>;
  order: string[];
}

const daemons: TestDaemon[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.close();
});

const itWithRunc = itWithTools("root", "runc", "busybox");

/** A daemon with one observer plugin (postStart and onExit; `failPostStart` makes postStart throw). */
async function observed(options: { dryRun?: boolean; failPostStart?: boolean } = {}): Promise<{ t: TestDaemon; seen: Seen; logs: string[] }> {
  const seen: Seen = { postStart: [], onExit: [], order: [] };
  const logs: string[] = [];
  const plugin = {
    name: "watcher",
    postStart: (_ctx: unknown, container: ContainerJSON) => {
      seen.order.push("postStart");
      seen.postStart.push(container);
      if (options.failPostStart) throw new Error("watcher is broken");
    },
    onExit: (_ctx: unknown, container: ContainerJSON, exit: ContainerExit) => {
      seen.order.push("onExit");
      seen.onExit.push({ container, exit });
    },
  };
  const t = await startTestDaemon((r: PluginRegistry) => r.registerContainerPlugin(plugin), {
    ...(options.dryRun ? { dryRun: true } : {}),
    log: (line) => logs.push(line),
  });
  daemons.push(t);
  return { t, seen, logs };
}

async function run(t: TestDaemon, cmd: string[], extra: Record<string, unknown> = {}): Promise<string> {
  const created = await t.api("POST", "/containers/create", JSON.stringify({ Image: "busybox", Cmd: cmd, ...extra }));
  expect(created.status).toBe(201);
  const id = (created.json as { Id: string }).Id;
  const started = await t.api("POST", `/containers/${id}/start`);
  expect(started.status).toBe(204);
  return id;
}

itWithRunc("postStart runs once the container's process runs, before the start request is answered", async () => {
  const { t, seen } = await observed();
  const id = await run(t, ["sleep", "30"]);
  expect(seen.postStart).toHaveLength(1);
  expect(seen.postStart[0]?.Id).toBe(id);
  expect(seen.postStart[0]?.State?.Running).toBe(true);
  expect(seen.postStart[0]?.State?.Pid).toBeGreaterThan(0);
});

itWithRunc("a failing postStart is logged and the container keeps running", async () => {
  const { t, logs } = await observed({ failPostStart: true });
  const id = await run(t, ["sleep", "30"]);
  const inspect = await t.api("GET", `/containers/${id}/json`);
  expect((inspect.json as ContainerJSON).State?.Running).toBe(true);
  expect(logs.join("\n")).toContain('ContainerPlugin.postStart (reported, the container is not affected): plugin "watcher" failed in ContainerPlugin.postStart: watcher is broken');
});

itWithRunc("onExit runs once, after postStart, with code 137 and SIGKILL when the container's process is killed with SIGKILL", async () => {
  const { t, seen } = await observed();
  const id = await run(t, ["sleep", "30"]);
  const pid = (await t.api("GET", `/containers/${id}/json`)).json as ContainerJSON;
  process.kill(pid.State!.Pid!, "SIGKILL");
  await vi.waitFor(() => expect(seen.onExit).toHaveLength(1), { timeout: 10_000 });
  const [{ container, exit }] = seen.onExit as [Seen["onExit"][number]];
  expect(exit).toEqual({ code: 137, signal: "SIGKILL", oomKilled: false, finishedAt: container.State?.FinishedAt });
  expect(container.State?.Running).toBe(false);
  expect(Date.parse(exit.finishedAt)).toBeGreaterThan(Date.now() - 60_000);
  await new Promise((r) => setTimeout(r, 500));
  expect(seen.order).toEqual(["postStart", "onExit"]);
});

itWithRunc("onExit reports a process that exits by itself with its status and no signal", async () => {
  const { t, seen } = await observed();
  await run(t, ["sh", "-c", "exit 3"]);
  await vi.waitFor(() => expect(seen.onExit).toHaveLength(1), { timeout: 10_000 });
  expect(seen.onExit[0]?.exit).toMatchObject({ code: 3, signal: undefined, oomKilled: false });
});

itWithRunc("a container killed by the OOM killer is reported with oomKilled true (where the machine lets runc limit memory)", async (ctx) => {
  const { t, seen } = await observed();
  const id = await run(t, ["sh", "-c", "sleep 1; tail /dev/zero"], { HostConfig: { Memory: 16 * 1024 * 1024, MemorySwap: 16 * 1024 * 1024 } });
  await vi.waitFor(() => expect(seen.onExit).toHaveLength(1), { timeout: 20_000 });
  if (seen.onExit[0]?.exit.code !== 137) {
    const reason = `runc could not limit the container's memory here (exit ${seen.onExit[0]?.exit.code}), so the OOM killer never came`;
    console.log(`skipped: ${reason}`);
    ctx.skip(reason);
  }
  await vi.waitFor(() => expect(seen.onExit).toHaveLength(1), { timeout: 20_000 });
  expect(seen.onExit[0]?.exit).toMatchObject({ code: 137, signal: "SIGKILL", oomKilled: true });
  expect(((await t.api("GET", `/containers/${id}/json`)).json as ContainerJSON).State?.OOMKilled).toBe(true);
}, 30_000);

it("in dry-run mode postStart and onExit each run once for a start, with status 0", async () => {
  const { t, seen } = await observed({ dryRun: true });
  await run(t, ["echo", "hi"]);
  await vi.waitFor(() => expect(seen.onExit).toHaveLength(1));
  expect(seen.order).toEqual(["postStart", "onExit"]);
  expect(seen.onExit[0]?.exit).toMatchObject({ code: 0, signal: undefined, oomKilled: false });
});
