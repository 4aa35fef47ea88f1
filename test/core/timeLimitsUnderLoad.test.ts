import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { PluginTimeoutError } from "hookplugins";
import { describe, expect, it } from "vitest";
import { config, rejectionOf, setup } from "./helpers.js";

/** Keeps the event loop busy for `ms` milliseconds, as a loaded host does. */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
}

/** A promise settling with `value` after `ms`, and the time the plugin settled it. */
function settleAfter<T>(ms: number, value: T, seen: { settledAt: number }): Promise<T> {
  return new Promise((resolve) =>
    setTimeout(() => {
      seen.settledAt = performance.now();
      resolve(value);
    }, ms),
  );
}

describe("time limits when the host is busy", () => {
  it("rejects with PluginTimeoutError when the loop is busy right after the call and the plugin settles late", async () => {
    const { registry, host } = setup();
    registry.registerContainerPlugin({
      name: "late",
      timeoutMs: 20,
      preCreate: () => settleAfter(45, { Image: "late-result" }, { settledAt: 0 }),
    });
    const call = host.container.preCreate(config());
    busy(30);
    const error = await rejectionOf(call);
    expect(error).toBeInstanceOf(PluginTimeoutError);
    expect(error).toMatchObject({ plugin: "late", hook: "ContainerPlugin.preCreate", timeoutMs: 20 });
  });

  it("rejects every one of 2,000 concurrent calls whose plugin settles after its limit while the loop is busy", async () => {
    const { registry, host } = setup();
    registry.registerContainerPlugin({
      name: "late",
      timeoutMs: 20,
      preCreate: () => settleAfter(45, { Image: "late-result" }, { settledAt: 0 }),
    });
    const calls = Array.from({ length: 2_000 }, () => host.container.preCreate(config()));
    busy(30);
    const outcomes = await Promise.allSettled(calls);
    const accepted = outcomes.filter((o) => o.status === "fulfilled").length;
    const timedOut = outcomes.filter((o) => o.status === "rejected" && o.reason instanceof PluginTimeoutError).length;
    expect({ accepted, timedOut }).toEqual({ accepted: 0, timedOut: 2_000 });
  });

  it("with 2,000 concurrent calls, accepts no result settled after its limit and times out no call before it", async () => {
    const { registry, host } = setup();
    const limit = 20;
    interface Seen {
      calledAt: number;
      settledAt: number;
    }
    const seen: Seen[] = [];
    registry.registerContainerPlugin({
      name: "varied",
      timeoutMs: limit,
      preCreate: (_ctx, c) => {
        const mine: Seen = { calledAt: performance.now(), settledAt: 0 };
        seen.push(mine);
        // delays spread around the limit: some settle well inside it, some well after it
        return settleAfter((seen.length * 7) % 41, c, mine);
      },
    });
    const results = await Promise.allSettled(
      Array.from({ length: 2_000 }, (_, i) =>
        host.container.preCreate(config()).then(
          () => ({ i, ok: true, at: performance.now() }),
          (error: unknown) => {
            if (!(error instanceof PluginTimeoutError)) throw error;
            return { i, ok: false, at: performance.now() };
          },
        ),
      ),
    );
    const lateAccepted: number[] = [];
    const early: number[] = [];
    for (const r of results) {
      if (r.status === "rejected") throw r.reason;
      const s = seen[r.value.i]!;
      // 1 ms covers the plugin's own synchronous part before it returned its promise
      if (r.value.ok && s.settledAt - s.calledAt > limit + 1) lateAccepted.push(s.settledAt - s.calledAt);
      if (!r.value.ok && r.value.at - s.calledAt < limit) early.push(r.value.at - s.calledAt);
    }
    expect({ lateAccepted: lateAccepted.length, early: early.length }).toEqual({ lateAccepted: 0, early: 0 });
  });

  it("keeps the process alive while a call is pending on nothing else, until its limit fails it", async () => {
    const fixture = fileURLToPath(new URL("./fixtures/neverSettles.ts", import.meta.url));
    const result = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      execFile(process.execPath, ["--import", "tsx", fixture], { timeout: 60_000 }, (error, out) => resolve({ code: error ? (error.code as number) : 0, stdout: out }));
    });
    expect(result.code).toBe(0);
    const { settled, afterMs } = JSON.parse(result.stdout.trim()) as { settled: string; afterMs: number };
    expect(settled).toBe("timeout");
    expect(afterMs).toBeGreaterThanOrEqual(300);
  });

  it("does not keep the process alive once no call is pending", async () => {
    const fixture = fileURLToPath(new URL("./fixtures/exitAfterCall.ts", import.meta.url));
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ["--import", "tsx", fixture], { timeout: 60_000 }, (error, out) => (error ? reject(error) : resolve(out)));
    });
    const { aliveAfterMs } = JSON.parse(stdout.trim()) as { aliveAfterMs: number };
    // the old watchdog held the loop for its next tick, a second later; the margin covers a loaded machine
    expect(aliveAfterMs).toBeLessThan(500);
  });
});
