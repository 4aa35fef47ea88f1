/**
 * ExitWatcher against a scripted engine (a node:http server on a UNIX socket answering `GET /events`,
 * `GET /containers/json` and inspects): what a real engine does too rarely to provoke on demand — a stream cut
 * while the engine runs on (replayed from `since=`), a container gone before its inspect, an exit found only by the
 * running set after a gap — and the status-to-signal rule. The real engine's behaviour is proxyObservers.test.ts's.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { createHost, createRegistry, type ContainerJSON, type Host } from "hookplugins";
import { createDockerProxy } from "hookplugins/docker";
import { signalOfStatus, sinceOf, type ContainerEvent } from "../../../src/docker/proxy/containerExit.js";
import { ContainerOrder } from "../../../src/docker/proxy/containerOrder.js";
import { ExitWatcher } from "../../../src/docker/proxy/exitWatcher.js";
import type { ContainerExit } from "hookplugins";
import { UpstreamClient } from "../../../src/docker/proxy/upstreamClient.js";

/** A scripted engine. */
interface Engine {
  readonly server: Server;
  /** Open event streams. */
  readonly streams: ServerResponse[];
  /** The `since` of each GET /events, in order ("" when absent). */
  readonly sinces: string[];
  /** Inspects by id (missing: 404). */
  readonly containers: Map<string, ContainerJSON>;
  /** What GET /containers/json lists. */
  running: string[];
  /** Event lines sent to each new stream first (a replay). */
  replay: string[];
}

let dir: string;
let engine: Engine;
let watcher: ExitWatcher;
let client: UpstreamClient;
const calls: { container: ContainerJSON; exit: ContainerExit }[] = [];
const logs: string[] = [];
const id = (n: number): string => String(n).repeat(64).slice(0, 64);
/** A minute from now, in nanoseconds (later than the time the engine's answers are dated). */
const t0 = (BigInt(Date.now()) + 60_000n) * 1_000_000n;

/** An event as the engine writes it: `timeNano` beyond a double's precision. */
function line(event: Omit<ContainerEvent, "timeNano">, at: bigint): string {
  return `${JSON.stringify({ ...event, time: Number(at / 1_000_000_000n), timeNano: "@" }).replace('"@"', at.toString())}\n`;
}

function die(n: number, at: bigint, attributes: Record<string, string> = {}): string {
  return line({ Action: "die", id: id(n), Actor: { ID: id(n), Attributes: { exitCode: "137", image: "bb", name: `c${n}`, ...attributes } } }, at);
}

function exited(n: number, finishedAt: string, code = 137): ContainerJSON {
  return { Id: id(n), Name: `/c${n}`, State: { Status: "exited", Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 0, ExitCode: code, Error: "", StartedAt: "2026-12-06T12:00:00Z", FinishedAt: finishedAt } };
}

function send(event: string): void {
  for (const s of engine.streams) s.write(event);
}

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Waits a moment, so that a call that should not come would have. */
const quiet = (): Promise<void> => new Promise((r) => setTimeout(r, 200));

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "hpexit-"));
  calls.length = 0;
  logs.length = 0;
  const e = { streams: [], sinces: [], containers: new Map(), running: [], replay: [] } as unknown as { -readonly [K in keyof Engine]: Engine[K] };
  e.server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://engine");
    if (url.pathname === "/events") {
      e.sinces.push(url.searchParams.get("since") ?? "");
      res.writeHead(200, { "Content-Type": "application/json" });
      res.flushHeaders();
      for (const event of e.replay) res.write(event);
      e.streams.push(res);
      res.once("close", () => e.streams.splice(e.streams.indexOf(res), 1));
      return;
    }
    if (url.pathname === "/containers/json") return void res.end(JSON.stringify(e.running.map((Id) => ({ Id }))));
    const inspected = /^\/containers\/([^/]+)\/json$/.exec(url.pathname);
    const found = inspected ? e.containers.get(inspected[1]!) : undefined;
    if (!found) return void res.writeHead(404).end('{"message":"No such container"}');
    res.end(JSON.stringify(found));
  });
  await new Promise<void>((r) => e.server.listen(join(dir, "engine.sock"), r));
  engine = e;
  client = new UpstreamClient({ kind: "unix", path: join(dir, "engine.sock") });
  const host = { container: { onExit: async (container: ContainerJSON, exit: ContainerExit) => {
        calls.push({ container, exit });
        return { failures: [] };
      },
    },
  } as unknown as Host;
  watcher = new ExitWatcher({ engine: client, host, order: new ContainerOrder(), log: (line) => logs.push(line), retryMs: { first: 20, max: 100 } });
  await watcher.start();
  await until(() => engine.streams.length === 1);
});

afterEach(async () => {
  await watcher.close();
  client.close();
  for (const s of engine.streams) s.destroy();
  await new Promise((r) => engine.server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

it("opens the stream again from the last event's time after the engine cut it, and reports a replayed exit once", async () => {
  engine.containers.set(id(1), exited(1, "2026-12-06T12:47:15.1Z"));
  send(die(1, t0));
  await until(() => calls.length === 1);
  // cut while the engine runs on; an exit in the gap comes back in the replay, with the one already reported
  engine.containers.set(id(2), exited(2, "2026-12-06T12:47:16.1Z", 3));
  engine.replay = [die(1, t0), die(2, t0 + 1_000_000_000n, { exitCode: "3" })];
  for (const s of [...engine.streams]) s.destroy();
  await until(() => calls.length === 2);
  await quiet();
  expect(engine.sinces).toEqual(["", sinceOf(String(t0))]);
  expect(calls.map((c) => [c.container.Id, c.exit.code, c.exit.signal])).toEqual([
    [id(1), 137, "SIGKILL"],
    [id(2), 3, undefined],
  ]);
  expect(logs.filter((l) => l.includes("lost the engine's event stream"))).toHaveLength(1);
});

it("describes a container removed before its inspect from the die event: id, name, image, labels, and the event's time", async () => {
  const at = (t0 / 1_000_000_000n) * 1_000_000_000n + 123_456_789n;
  send(die(3, at, { exitCode: "7", team: "infra" }));
  await until(() => calls.length === 1);
  const seconds = new Date(Number(at / 1_000_000n)).toISOString().slice(0, 19);
  expect(calls[0]!.exit).toEqual({ code: 7, signal: undefined, oomKilled: false, finishedAt: `${seconds}.123456789Z` });
  expect(calls[0]!.container).toMatchObject({ Id: id(3), Name: "/c3", Image: "bb", Config: { Image: "bb", Labels: { team: "infra" } }, State: { Running: false, ExitCode: 7 } });
});

it("writes a removed container's time as the engine writes FinishedAt: trailing zeros of the nanoseconds dropped", async () => {
  const second = (t0 / 1_000_000_000n) * 1_000_000_000n;
  send(die(6, second + 120_000_000n));
  send(die(7, second));
  await until(() => calls.length === 2);
  const seconds = new Date(Number(second / 1_000_000n)).toISOString().slice(0, 19);
  const byId = new Map(calls.map((c) => [c.container.Id, c.exit.finishedAt]));
  expect([byId.get(id(6)), byId.get(id(7))]).toEqual([`${seconds}.12Z`, `${seconds}Z`]);
});

it("reports both exits of a container a restart policy started again before the first exit's inspect", async () => {
  const second = (t0 / 1_000_000_000n) * 1_000_000_000n;
  const iso = (at: bigint): string => new Date(Number(at / 1_000_000n)).toISOString();
  // the inspect of both dies shows the second run: started after the first die, ended with status 2
  engine.containers.set(id(9), { ...exited(9, iso(second + 3_000_000_000n), 2), State: { ...exited(9, iso(second + 3_000_000_000n), 2).State!, StartedAt: iso(second + 2_000_000_000n) } });
  send(die(9, second + 1_000_000_000n, { exitCode: "1" }));
  send(die(9, second + 3_000_000_000n, { exitCode: "2" }));
  await until(() => calls.length === 2);
  await quiet();
  expect(calls.map((c) => [c.exit.code, c.exit.finishedAt])).toEqual([
    [1, iso(second + 1_000_000_000n).replace(".000Z", "Z")],
    [2, iso(second + 3_000_000_000n)],
  ]);
});

it("reports oomKilled for a removed container whose die came after an oom event", async () => {
  send(line({ Action: "oom", id: id(4), Actor: { ID: id(4), Attributes: {} } }, t0));
  send(die(4, t0 + 1n));
  await until(() => calls.length === 1);
  expect(calls[0]!.exit).toMatchObject({ code: 137, signal: "SIGKILL", oomKilled: true });
});

it("after a gap the engine forgot (a restart), reports a container that ran before and runs no more, from its inspect, once", async () => {
  send(line({ Action: "start", id: id(5), Actor: { ID: id(5), Attributes: {} } }, t0));
  await quiet();
  engine.containers.set(id(5), exited(5, "2026-12-06T12:48:03.9Z"));
  for (const s of [...engine.streams]) s.destroy();
  await until(() => calls.length === 1);
  expect(calls[0]!.exit).toEqual({ code: 137, signal: "SIGKILL", oomKilled: false, finishedAt: "2026-12-06T12:48:03.9Z" });
  // the replayed die of the same exit, and another gap, add nothing
  engine.replay = [die(5, t0 + 5n)];
  for (const s of [...engine.streams]) s.destroy();
  await until(() => engine.sinces.length === 3);
  await quiet();
  expect(calls).toHaveLength(1);
});

it("reports each of 500 exits once through three cuts that replay everything, skipping lines that are not events", async () => {
  const all: string[] = [];
  for (let n = 0; n < 500; n++) {
    const cid = `${String(n).padStart(4, "0")}`.repeat(16);
    engine.containers.set(cid, { ...exited(0, `2026-12-06T12:50:00.${String(n).padStart(9, "0")}Z`), Id: cid });
    all.push(line({ Action: "die", id: cid, Actor: { ID: cid, Attributes: { exitCode: "1" } } }, t0 + BigInt(n)));
  }
  engine.replay = ['{"half": ', "not json\n", '{"Action":"die"}\n', "\n"];
  for (let cut = 0; cut < 3; cut++) {
    for (const event of all.slice(0, ((cut + 1) * all.length) / 3)) send(event);
    engine.replay = [...engine.replay, ...all];
    for (const s of [...engine.streams]) s.destroy();
    await until(() => engine.sinces.length === cut + 2);
  }
  await until(() => calls.length >= 500);
  await quiet();
  expect(calls).toHaveLength(500);
  expect(new Set(calls.map((c) => c.container.Id)).size).toBe(500);
});

it("calls nothing once closed", async () => {
  await watcher.close();
  engine.containers.set(id(6), exited(6, "2026-12-06T12:49:00Z"));
  send(die(6, t0));
  await quiet();
  expect({ calls: calls.length, streams: engine.streams.length }).toEqual({ calls: 0, streams: 0 });
});

it("reads a status of 128+n as signal n, and any other status as the process's own", () => {
  expect([137, 143, 130, 128, 3, 0, 255].map(signalOfStatus)).toEqual(["SIGKILL", "SIGTERM", "SIGINT", undefined, undefined, undefined, undefined]);
});

it("createDockerProxy opens no event stream when no plugin implements onExit", async () => {
  const plugins = createRegistry();
  plugins.registerContainerPlugin({ name: "creates-only", preCreate: () => undefined });
  const host = createHost({ registry: plugins });
  const proxy = await createDockerProxy({ host, listen: join(dir, "proxy.sock"), upstream: `unix://${join(dir, "engine.sock")}`, handoffDir: join(dir, "handoff"), daemonHooks: false, log: () => undefined });
  await quiet();
  await proxy.close();
  await host.close();
  // the watcher of this file's beforeEach opened the one stream
  expect(engine.sinces).toHaveLength(1);
});
