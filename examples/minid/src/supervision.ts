/**
 * What minid tells the plugins about one run of a container's main process: ContainerPlugin.postStart once runc
 * reports it running, and ContainerPlugin.onExit once when it ends (after postStart, with the exit code, the signal,
 * the OOM killer's verdict and the time). Both are observers: a failure is logged, never stops or undoes anything.
 */
import { constants } from "node:os";
import type { ContainerRecord } from "./containerStore.js";
import type { DaemonContext } from "./context.js";
import { type ContainerExit, type ObserverOutcome } from "hookplugins";
import { inspectContainer } from "./inspect.js";
import type { OomWatch } from "./oomWatch.js";
import type { RunningContainer } from "./runtime.js";

/** The signal name for exit status `code` when it is 128+n for a known signal n. */
export function signalOfStatus(code: number): NodeJS.Signals | undefined {
  if (code <= 128) return undefined;
  const entry = Object.entries(constants.signals).find(([, n]) => n === code - 128);
  return entry ? (entry[0] as NodeJS.Signals) : undefined;
}

/** The ContainerExit of an exit status (128+n means signal n, as runc and Docker report it). */
export function exitOf(code: number, oomKilled: boolean, finishedAt: string): ContainerExit {
  return { code, signal: signalOfStatus(code), oomKilled, finishedAt };
}

/** One run's observers. */
export interface Supervision {
  /** Settles once postStart ran (at once when the runtime could not start the container). */
  readonly postStarted: Promise<void>;
  /**
   * The run ended with status `code`: reads the OOM counter a last time, calls `settle(oomKilled)` (the host records
   * the exit), then runs onExit (not when the container never started). Resolves once onExit ran.
   */
  ended(code: number, settle: (oomKilled: boolean) => void): Promise<void>;
}

async function observe(ctx: DaemonContext, hook: string, run: () => Promise<ObserverOutcome>): Promise<void> {
  try {
    for (const failure of (await run()).failures) ctx.log(`minid: ${hook} (reported, the container is not affected): ${failure.message}`);
  } catch (err) {
    ctx.log(`minid: ${hook} (reported, the container is not affected): ${(err as Error).message}`);
  }
}

/** Starts observing `running`, the runtime's handle of `record`'s new run. */
export function superviseRun(ctx: DaemonContext, record: ContainerRecord, running: RunningContainer): Supervision {
  const host = ctx.host;
  const started = running.started.then(
    () => true,
    () => false,
  );
  const oom: Promise<OomWatch | undefined> = started.then((ok) => (ok ? ctx.runtime.watchOom(record.id) : undefined));
  const postStarted = started.then(async (ok) => {
    if (!ok) return;
    await oom;
    await observe(ctx, "ContainerPlugin.postStart", () => host.container.postStart(inspectContainer(record, ctx.paths.volumes)));
  });
  return {
    postStarted,
    ended: async (code, settle) => {
      const ran = await started;
      const oomKilled = (await (await oom)?.stop()) ?? false;
      settle(oomKilled);
      if (!ran) return;
      await postStarted;
      const exit = exitOf(code, oomKilled, record.state.finishedAt);
      await observe(ctx, "ContainerPlugin.onExit", () => host.container.onExit(inspectContainer(record, ctx.paths.volumes), exit));
    },
  };
}
