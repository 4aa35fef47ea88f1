/**
 * listenForShutdown, the one SIGTERM/SIGINT helper of the CLI's long-running commands, serve() and minid: the first
 * signal settles `first`, later ones go to onRepeat and never to Node's default action, and dispose() leaves the
 * process as it found it. Signals are delivered with process.emit, which calls the same listeners a real one does.
 */
import { afterEach, describe, expect, it } from "vitest";
import { listenForShutdown, type ShutdownSignal, type ShutdownSignals } from "hookplugins";

let open: ShutdownSignals | undefined;
afterEach(() => open?.dispose());

const listeners = (): number[] => [process.listenerCount("SIGTERM"), process.listenerCount("SIGINT")];

describe("listenForShutdown", () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`settles first with ${signal} when that signal comes first`, async () => {
      open = listenForShutdown();
      process.emit(signal);
      await expect(open.first).resolves.toBe(signal);
    });
  }

  it("keeps the first signal when another one follows, and tells onRepeat of each later one with the count so far", async () => {
    const repeats: [ShutdownSignal, number][] = [];
    open = listenForShutdown({ onRepeat: (signal, received) => repeats.push([signal, received]) });
    process.emit("SIGINT");
    process.emit("SIGTERM");
    process.emit("SIGINT");
    await expect(open.first).resolves.toBe("SIGINT");
    expect(repeats).toEqual([["SIGTERM", 2], ["SIGINT", 3]]);
  });

  it("listens from the call until dispose(), and dispose() removes exactly its own listeners, also when called twice", () => {
    const before = listeners();
    open = listenForShutdown();
    expect(listeners()).toEqual(before.map((n) => n + 1));
    open.dispose();
    open.dispose();
    expect(listeners()).toEqual(before);
  });
});
