/**
 * The relay and containerd 1.6's CRI plugin going away and coming back: containerd killed (SIGKILL, its shims and
 * containers keep running) while calls come, while a call is in flight, under 32 concurrent callers, and before the
 * relay starts; the relay closed and a new one started on the same socket while pods and containers run.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { containerdTools, type Containerd } from "../support/engines/containerd.js";
import { isAlive } from "../support/engines/processes.js";
import { describeWithTools } from "../support/tools.js";
import { containerConfig, criClient, podConfig, type CallError, type CriClient } from "./criClient.js";
import { startRelay, type RelayFixture } from "./relayFixture.js";
import { startCriRig, type CriRig } from "./criRig.js";

/** How a call ended, and when. */
type Outcome = ({ ok: Record<string, unknown> } | { code: number; details: string }) & { ms: number };

const outcomeOf = (call: Promise<unknown>): Promise<Outcome> => {
  const started = Date.now();
  return call.then(
    (reply) => ({ ok: reply as Record<string, unknown>, ms: Date.now() - started }),
    (error: CallError) => ({ code: error.code, details: error.details, ms: Date.now() - started }),
  );
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const UNAVAILABLE = 14;

interface VerboseStatus {
  status: { id: string; state: number; started_at: number };
  info: Record<string, string>;
}

describeWithTools(containerdTools, "hookplugins cri-proxy in front of containerd's CRI plugin: containerd and the relay restarted", () => {
  let rig: CriRig | undefined;
  let containerd: Containerd;
  let relay: RelayFixture;
  let viaRelay: CriClient;
  let direct: CriClient;
  const pod = podConfig("restarts");
  let podId: string;
  let target: string;

  /** The message of a call the relay could not pass to containerd (why: ECONNREFUSED, or the connection closing under it). */
  const unavailableMessage = (): RegExp => {
    const socket = containerd.socketPath.replace(/[.]/g, "[.]");
    return new RegExp(
      `^hookplugins cri-proxy: the container runtime at unix://${socket} is not answering \\((connect ECONNREFUSED ${socket}|the connection closed during the call)\\); check that it is running and listens there \\(the relay connects again on the next call\\)$`,
    );
  };

  /** Waits until containerd's CRI plugin answers directly (after a restart it recovers its pods first). */
  const criReady = async (): Promise<void> => {
    const end = Date.now() + 20_000;
    while ("code" in (await outcomeOf(direct.runtime("Version", {}, { timeoutMs: 2_000 })))) {
      if (Date.now() > end) throw new Error("containerd's CRI plugin did not answer after the restart");
      await sleep(50);
    }
  };

  const verbose = async (client: CriClient, id: string): Promise<{ state: number; pid: number; startedAt: number }> => {
    const reply = await client.runtime<VerboseStatus>("ContainerStatus", { container_id: id, verbose: true });
    return { state: reply.status.state, pid: (JSON.parse(reply.info["info"]!) as { pid: number }).pid, startedAt: reply.status.started_at };
  };

  beforeAll(async () => {
    ({ containerd, relay, viaRelay, direct } = rig = await startCriRig());
    podId = (await direct.runtime<{ pod_sandbox_id: string }>("RunPodSandbox", { config: pod })).pod_sandbox_id;
    target = (await direct.runtime<{ container_id: string }>("CreateContainer", { pod_sandbox_id: podId, config: containerConfig("target", containerd.image), sandbox_config: pod })).container_id;
    await direct.runtime("StartContainer", { container_id: target });
  }, 120_000);

  afterAll(async () => {
    await rig?.stop();
  }, 60_000);

  it("answers UNAVAILABLE within a second while containerd is down, naming its socket and what to check, for relayed and intercepted methods alike", async () => {
    expect(await viaRelay.runtime("Version", {})).toMatchObject({ runtime_name: "containerd" });
    const calls: Record<string, (c: CriClient) => Promise<unknown>> = {
      Version: (c) => c.runtime("Version", {}, { timeoutMs: 10_000 }),
      ListContainers: (c) => c.runtime("ListContainers", {}, { timeoutMs: 10_000 }),
      ImageStatus: (c) => c.image("ImageStatus", { image: { image: containerd.image } }, { timeoutMs: 10_000 }),
      // intercepted: the plugins run, then containerd is not there
      CreateContainer: (c) => c.runtime("CreateContainer", { pod_sandbox_id: podId, config: containerConfig("while-down", containerd.image), sandbox_config: pod }, { timeoutMs: 10_000 }),
      PullImage: (c) => c.image("PullImage", { image: { image: containerd.image } }, { timeoutMs: 10_000 }),
    };
    const seen: Record<string, { relay: Outcome; direct: Outcome }> = {};
    await containerd.restart({
      whileDown: async () => {
        for (const [name, call] of Object.entries(calls)) seen[name] = { relay: await outcomeOf(call(viaRelay)), direct: await outcomeOf(call(direct)) };
      },
    });
    for (const [name, { relay: r, direct: d }] of Object.entries(seen)) {
      expect({ name, code: "code" in r ? r.code : "ok" }).toEqual({ name, code: UNAVAILABLE });
      expect({ name, code: "code" in d ? d.code : "ok" }).toEqual({ name, code: UNAVAILABLE }); // what a direct client gets too
      expect((r as { details: string }).details).toMatch(unavailableMessage());
      expect(r.ms).toBeLessThan(1_000);
    }
  }, 60_000);

  it("serves calls again through the same relay and client once containerd is back, with no restart of the relay", async () => {
    await containerd.restart();
    await criReady();
    const version = await outcomeOf(viaRelay.runtime("Version", {}, { timeoutMs: 5_000 }));
    expect(version).toMatchObject({ ok: { runtime_name: "containerd", runtime_api_version: "v1" } });
    const listed = await viaRelay.runtime<{ containers: { id: string; state: number }[] }>("ListContainers", {}, { timeoutMs: 5_000 });
    expect(listed.containers.find((c) => c.id === target)?.state).toBe(1); // still running: only containerd died
    expect((await viaRelay.runtime<{ stdout: Buffer }>("ExecSync", { container_id: target, cmd: ["echo", "back"], timeout: 10 })).stdout.toString()).toBe("back\n");
  }, 60_000);

  it("ends a call in flight when containerd dies with UNAVAILABLE at once, not at its deadline", async () => {
    await criReady();
    const running = async (marker: string): Promise<boolean> => {
      const ps = await direct.runtime<{ stdout: Buffer }>("ExecSync", { container_id: target, cmd: ["ps", "-o", "args"], timeout: 10 });
      return ps.stdout.toString().split("\n").some((line) => line.trim() === `sleep ${marker}`);
    };
    const inFlight = { relay: outcomeOf(viaRelay.runtime("ExecSync", { container_id: target, cmd: ["sleep", "41"], timeout: 60 }, { timeoutMs: 30_000 })), direct: outcomeOf(direct.runtime("ExecSync", { container_id: target, cmd: ["sleep", "42"], timeout: 60 }, { timeoutMs: 30_000 })) };
    const end = Date.now() + 10_000;
    while (!((await running("41")) && (await running("42")))) {
      if (Date.now() > end) throw new Error("the commands never started");
      await sleep(100);
    }
    let killedAt = 0;
    const ended: { relay?: Outcome & { at: number }; direct?: Outcome & { at: number } } = {};
    void inFlight.relay.then((o) => (ended.relay = { ...o, at: Date.now() }));
    void inFlight.direct.then((o) => (ended.direct = { ...o, at: Date.now() }));
    await containerd.restart({
      whileDown: async () => {
        killedAt = Date.now();
        await Promise.race([Promise.all([inFlight.relay, inFlight.direct]), sleep(5_000)]);
      },
    });
    expect(ended.relay, "the relayed call still hangs 5 s after containerd died").toBeDefined();
    expect(ended.relay).toMatchObject({ code: UNAVAILABLE, details: expect.stringMatching(unavailableMessage()) });
    expect((ended.relay as { details: string }).details).toContain("the connection closed during the call");
    expect(ended.relay!.at - killedAt).toBeLessThan(2_000);
    expect(ended.direct).toMatchObject({ code: UNAVAILABLE }); // a direct client gets the same code
  }, 60_000);

  it("keeps pods and containers running across a relay restart, and a new relay on the same socket serves them to a client that stayed connected", async () => {
    await criReady();
    const dir = await mkdtemp(join(tmpdir(), "hprr-"));
    const listen = join(dir, "cri.sock");
    let first: RelayFixture | undefined = await startRelay(containerd.socketPath, {}, { listen });
    let second: RelayFixture | undefined;
    const kubelet = criClient(listen);
    try {
      const config = podConfig("relay-restart");
      const id = (await kubelet.runtime<{ pod_sandbox_id: string }>("RunPodSandbox", { config })).pod_sandbox_id;
      const cid = (await kubelet.runtime<{ container_id: string }>("CreateContainer", { pod_sandbox_id: id, config: containerConfig("survivor", containerd.image), sandbox_config: config })).container_id;
      await kubelet.runtime("StartContainer", { container_id: cid });
      const before = await verbose(kubelet, cid);
      expect(before.state).toBe(1);

      await first.stop();
      first = undefined;
      expect(await verbose(direct, cid)).toEqual(before); // untouched while no relay runs
      expect(isAlive(before.pid)).toBe(true);

      second = await startRelay(containerd.socketPath, {}, { listen });
      expect(await verbose(kubelet, cid)).toEqual(before); // same state, same pid, same start
      expect(await kubelet.runtime("PodSandboxStatus", { pod_sandbox_id: id })).toMatchObject({ status: { id, state: 0 } });
      expect((await kubelet.runtime<{ stdout: Buffer }>("ExecSync", { container_id: cid, cmd: ["echo", "served"], timeout: 10 })).stdout.toString()).toBe("served\n");
    } finally {
      kubelet.close();
      await first?.stop();
      await second?.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it("starts while containerd is down, answers UNAVAILABLE at once until containerd is back, then serves calls", async () => {
    await criReady();
    let early: RelayFixture | undefined;
    let client: CriClient | undefined;
    try {
      let whileDown: Outcome | undefined;
      await containerd.restart({
        whileDown: async () => {
          early = await startRelay(containerd.socketPath);
          client = criClient(early.socketPath);
          whileDown = await outcomeOf(client.runtime("Version", {}, { timeoutMs: 10_000 }));
        },
      });
      expect(whileDown).toMatchObject({ code: UNAVAILABLE, details: expect.stringMatching(unavailableMessage()) });
      expect(whileDown!.ms).toBeLessThan(1_000);
      await criReady();
      expect(await outcomeOf(client!.runtime("Version", {}, { timeoutMs: 5_000 }))).toMatchObject({ ok: { runtime_name: "containerd" } });
      expect(await outcomeOf(client!.runtime("ContainerStatus", { container_id: target }, { timeoutMs: 5_000 }))).toMatchObject({ ok: { status: { id: target, state: 1 } } });
    } finally {
      client?.close();
      await early?.stop();
    }
  }, 60_000);

  it("under 32 concurrent callers through a containerd restart, answers every call with its own reply or UNAVAILABLE, none past its deadline, and all succeed after", async () => {
    await criReady();
    const callers = Array.from({ length: 32 }, () => criClient(relay.socketPath));
    const methods = ["Version", "ListContainers", "ContainerStatus"] as const;
    /** Whether `reply` is the right reply to `method` (not another call's). */
    const rightReply = (method: (typeof methods)[number], reply: Record<string, unknown>): boolean => {
      if (method === "Version") return reply["runtime_name"] === "containerd" && reply["runtime_api_version"] === "v1";
      if (method === "ListContainers") return Array.isArray(reply["containers"]) && (reply["containers"] as { id: string }[]).some((c) => c.id === target);
      return (reply["status"] as { id?: string } | undefined)?.id === target;
    };
    const call = (client: CriClient, method: (typeof methods)[number]): Promise<Outcome> =>
      outcomeOf(client.runtime(method, method === "ContainerStatus" ? { container_id: target } : {}, { timeoutMs: 5_000 }));
    type Phase = "before" | "down" | "after";
    let phase: Phase = "before";
    const results: { phase: Phase; method: string; outcome: Outcome; right: boolean }[] = [];
    let stop = false;
    try {
      const loops = callers.map(async (client, i) => {
        for (let n = 0; !stop; n++) {
          const method = methods[(i + n) % methods.length]!;
          const started = phase;
          const outcome = await call(client, method);
          results.push({ phase: started, method, outcome, right: "ok" in outcome ? rightReply(method, outcome.ok) : false });
          if ("code" in outcome) await sleep(20);
        }
      });
      await sleep(500);
      const pid = containerd.pid;
      // containerd killed under the load, kept down for 300 ms (calls keep coming), then started again
      await containerd.restart({
        whileDown: async () => {
          phase = "down";
          await sleep(300);
        },
      });
      expect(containerd.pid).not.toBe(pid);
      await criReady();
      phase = "after";
      await sleep(300);
      stop = true;
      await Promise.all(loops);

      const failed = results.filter((r) => "code" in r.outcome).map((r) => ({ phase: r.phase, ...(r.outcome as { code: number; details: string }) }));
      // UNAVAILABLE from the relay while containerd is gone; and while its CRI plugin starts (it listens before it has
      // recovered its pods), containerd's own answer, kept as every status is: what a kubelet talking to it directly gets
      const starting = { code: 2, details: "server is not initialized yet" };
      const unexpected = failed.filter((f) => !(f.code === UNAVAILABLE && unavailableMessage().test(f.details)) && !(f.phase === "down" && f.code === starting.code && f.details === starting.details));
      expect(unexpected).toEqual([]);
      expect(failed.filter((f) => f.phase === "down" && f.code === UNAVAILABLE).length).toBeGreaterThan(0); // calls while containerd was down were answered, not held
      expect(failed.filter((f) => f.phase === "after")).toEqual([]);
      expect(results.filter((r) => "ok" in r.outcome && !r.right)).toEqual([]); // no call got another's reply
      expect(Math.max(...results.map((r) => r.outcome.ms))).toBeLessThan(5_000); // none waited for its deadline
      for (const phaseWithCalls of ["before", "after"] as const) expect(results.filter((r) => r.phase === phaseWithCalls && "ok" in r.outcome).length).toBeGreaterThan(32);

      const after = await Promise.all(callers.map((client, i) => call(client, methods[i % methods.length]!)));
      expect(after.filter((o, i) => !("ok" in o) || !rightReply(methods[i % methods.length]!, o.ok))).toEqual([]);
    } finally {
      stop = true;
      for (const client of callers) client.close();
    }
  }, 60_000);
});
