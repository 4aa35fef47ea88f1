/**
 * The prestart hand-off between the Docker API proxy and the OCI runtime wrapper: atomic, private, used once,
 * checked when read, swept when stale.
 */
import { mkdtempSync, readdirSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HandoffError, handoffPath, readHandoff, sweepHandoffs, takeHandoff, writeHandoff, type PrestartHandoff } from "hookplugins/runtime";

const id = "a".repeat(64);
const handoff: PrestartHandoff = {
  version: 1,
  id,
  createdAt: "2026-12-06T00:00:00.000Z",
  source: "docker-proxy",
  hooks: [{ priority: 10, path: "/usr/bin/true", args: ["x"], env: ["K=v"], timeout: 5 }],
};

const freshDir = (): string => join(mkdtempSync(join(tmpdir(), "hookplugins-handoff-")), "prestart");

describe("the prestart hand-off", () => {
  it("is written into a folder only its owner can use, as a file only its owner can read", async () => {
    const dir = freshDir();
    const path = await writeHandoff(dir, handoff);
    expect(path).toBe(join(dir, `${id}.json`));
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual([`${id}.json`]);
  });

  it("reads back what was written", async () => {
    const dir = freshDir();
    await writeHandoff(dir, handoff);
    expect(await readHandoff(dir, id)).toEqual(handoff);
  });

  it("is used once: take reads it and removes it", async () => {
    const dir = freshDir();
    await writeHandoff(dir, handoff);
    expect(await takeHandoff(dir, id)).toEqual(handoff);
    expect(await takeHandoff(dir, id)).toBeUndefined();
  });

  it("is undefined for a container without one, also when the folder does not exist", async () => {
    expect(await readHandoff(freshDir(), id)).toBeUndefined();
  });

  it("refuses a corrupt file, naming it and the fix", async () => {
    const dir = freshDir();
    await writeHandoff(dir, handoff);
    writeFileSync(handoffPath(dir, id), "{ not json");
    await expect(readHandoff(dir, id)).rejects.toThrow(new RegExp(`prestart hand-off ${join(dir, id)}\\.json is not valid JSON .*delete it`));
  });

  it("refuses a hook that is not a prestart hook", async () => {
    const dir = freshDir();
    await writeHandoff(dir, { ...handoff, hooks: [{ priority: 1, path: "relative/hook" }] });
    const error = await readHandoff(dir, id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HandoffError);
    expect((error as Error).message).toMatch(/is not valid: hooks\[0\]: path must be a non-empty absolute path/);
  });

  it("refuses a container id that could name another file", () => {
    expect(() => handoffPath("/run/x", "../etc/passwd")).toThrow(/not a container id/);
  });

  it("sweeps only files older than the age given", async () => {
    const dir = freshDir();
    await writeHandoff(dir, handoff);
    await writeHandoff(dir, { ...handoff, id: "b".repeat(64) });
    const old = (Date.now() - 3_600_000) / 1000;
    utimesSync(handoffPath(dir, id), old, old);
    expect(await sweepHandoffs(dir, 600_000)).toEqual([handoffPath(dir, id)]);
    expect(readdirSync(dir)).toEqual([`${"b".repeat(64)}.json`]);
  });
});
