/**
 * Every RuntimeService and ImageService method of the CRI proto (kubernetes/cri-api v0.25.0, what containerd 1.6
 * serves), runtime.v1 and runtime.v1alpha2, called once through the relay and once straight on containerd 1.6's CRI
 * plugin: the same replies (volatile fields normalised: stats values and their timestamps, exec URL tokens, and for
 * calls that create or remove something, the ids and names each side's own objects have), the same error codes and
 * messages, the same UNIMPLEMENTED for what containerd does not serve (including methods newer than the proto and a
 * server stream), and containerd's own deadline and cancellation on a relayed ExecSync.
 *
 * Objects a call acts on are made straight on containerd, so that only the call under test goes through the relay.
 */
import { join } from "node:path";
import type * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProtoWriter } from "../../src/cri/protoWire.js";
import { frameMessage } from "../../src/cri/grpcWire.js";
import { writeBusyboxArchive } from "../support/engines/images.js";
import { startContainerd, containerdTools, type Containerd } from "../support/engines/containerd.js";
import { describeWithTools } from "../support/tools.js";
import { containerConfig, criClient, podConfig, type CallError, type CriClient, type CriVersion } from "./criClient.js";
import { http2Call, rawClient, rawServerStream, rawUnary } from "./rawCalls.js";
import { startRelay, type RelayFixture } from "./relayFixture.js";

type Side = "relay" | "direct";
const sides: readonly Side[] = ["relay", "direct"];

/** How a call ended: its reply, or its status code and message. */
type Outcome = { ok: unknown } | { code: number; details: string };

const outcomeOf = (call: Promise<unknown>): Promise<Outcome> =>
  call.then(
    (reply) => ({ ok: reply }),
    (error: CallError) => ({ code: error.code, details: error.details }),
  );

/** Keys whose numbers change from one call to the next on the same object (stats, the time they were taken). */
const statsValueKeys = new Set(["usage_core_nano_seconds", "usage_nano_cores", "working_set_bytes", "available_bytes", "usage_bytes", "rss_bytes", "page_faults", "major_page_faults", "used_bytes", "inodes_used"]);
/** Keys holding the time an object was made, started or ended. */
const lifeTimeKeys = new Set(["created_at", "started_at", "finished_at"]);

/** How much of a reply normalise() replaces. */
interface Normalising {
  /** Stats values and their timestamps. */
  readonly stats?: boolean;
  /** Ids (64 hex digits), life times and "-relay"/"-direct" in names: for objects each side made for itself. */
  readonly own?: boolean;
}

/** A reply with what legitimately differs between two calls replaced by placeholders; lists sorted (containerd's come from maps). */
function normalise(value: unknown, how: Normalising): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString("utf8");
  if (Array.isArray(value)) {
    const items = value.map((v) => normalise(v, how));
    const keyed = items.every((i) => i !== null && typeof i === "object" && ("id" in i || "attributes" in i));
    return keyed ? items.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))) : items;
  }
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (how.stats && k === "timestamp" && typeof v === "number") out[k] = v === 0 ? 0 : "<time>";
      else if (how.stats && statsValueKeys.has(k) && v !== null && typeof v === "object") out[k] = { value: "<number>" };
      else if (how.own && lifeTimeKeys.has(k) && typeof v === "number") out[k] = v === 0 ? 0 : "<time>";
      else out[k] = normalise(v, how);
    }
    return out;
  }
  if (typeof value === "string") {
    let s = value.replace(/\/(exec|attach|portforward)\/[\w-]+$/, "/$1/<token>");
    if (how.own) s = s.replace(/[0-9a-f]{64}/g, "<id>").replace(/-(relay|direct)\b/g, "-<side>");
    return s;
  }
  return value;
}

/** ExecSyncRequest's bytes (the relay's codec has no table for it). */
function execSyncRequest(containerId: string, cmd: readonly string[]): Buffer {
  const writer = new ProtoWriter().delimited(1, Buffer.from(containerId));
  for (const arg of cmd) writer.delimited(2, Buffer.from(arg));
  return writer.finish();
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describeWithTools(containerdTools, "hookplugins cri-proxy in front of containerd's CRI plugin: every other method relayed as it is", () => {
  let containerd: Containerd;
  let relay: RelayFixture;
  let socketOf: Record<Side, string>;
  let raw: Record<Side, grpc.Client>;
  let removableArchive: string;
  const removableImage = "localhost/hookplugins-removable:1";

  beforeAll(async () => {
    containerd = await startContainerd({ cri: true });
    relay = await startRelay(containerd.socketPath);
    socketOf = { relay: relay.socketPath, direct: containerd.socketPath };
    raw = { relay: rawClient(relay.socketPath), direct: rawClient(containerd.socketPath) };
    // an image of its own (another command, so another id) that RemoveImage can remove without touching the sandbox image
    removableArchive = join(containerd.dir, "removable.tar");
    await writeBusyboxArchive(removableArchive, join(containerd.dir, "removable-work"), { name: removableImage, cmd: ["/bin/true"] });
  }, 120_000);

  afterAll(async () => {
    for (const client of Object.values(raw ?? {})) client.close();
    await relay?.stop();
    await containerd?.stop();
  }, 60_000);

  for (const version of ["v1", "v1alpha2"] as const satisfies readonly CriVersion[]) {
    describe(`runtime.${version}`, () => {
      let client: Record<Side, CriClient>;
      let direct: CriClient;
      const pod = podConfig(`methods-${version}`);
      let podId: string;
      /** A running container every read-only call looks at. */
      let target: string;
      /** A running container per side, for calls that change one. */
      let own: Record<Side, string>;

      const createContainer = async (name: string, start: boolean): Promise<string> => {
        const id = (await direct.runtime<{ container_id: string }>("CreateContainer", { pod_sandbox_id: podId, config: containerConfig(name, containerd.image), sandbox_config: pod })).container_id;
        if (start) await direct.runtime("StartContainer", { container_id: id });
        return id;
      };
      const runPod = async (name: string): Promise<string> => (await direct.runtime<{ pod_sandbox_id: string }>("RunPodSandbox", { config: podConfig(name) })).pod_sandbox_id;

      beforeAll(async () => {
        client = { relay: criClient(relay.socketPath, version), direct: criClient(containerd.socketPath, version) };
        direct = client.direct;
        podId = (await direct.runtime<{ pod_sandbox_id: string }>("RunPodSandbox", { config: pod })).pod_sandbox_id;
        target = await createContainer("target", true);
        own = { relay: await createContainer("own-relay", true), direct: await createContainer("own-direct", true) };
      }, 60_000);

      afterAll(() => {
        for (const c of Object.values(client ?? {})) c.close();
      });

      /** Calls `call` through the relay, then directly: both outcomes, normalised per `how`. */
      const both = async (call: (c: CriClient, side: Side) => Promise<unknown>, how: Normalising = {}): Promise<Record<Side, Outcome>> => {
        const out = {} as Record<Side, Outcome>;
        for (const side of sides) {
          const o = await outcomeOf(call(client[side], side));
          out[side] = "ok" in o ? { ok: normalise(o.ok, how) } : { code: o.code, details: how.own ? (normalise(o.details, how) as string) : o.details };
        }
        return out;
      };

      // ---- the same request both ways (reads, and calls on ids and images containerd does not have): the same outcome ----

      interface ReadCase {
        readonly name: string;
        readonly service: "runtime" | "image";
        readonly method: string;
        readonly request: () => object;
        /** "ok", or the status code containerd answers. */
        readonly expected: "ok" | number;
        readonly how?: Normalising;
        readonly check?: (outcome: Outcome) => void;
      }
      const reads: ReadCase[] = [
        { name: "Version", service: "runtime", method: "Version", request: () => ({}), expected: "ok", check: (o) => expect(o).toMatchObject({ ok: { runtime_name: "containerd", runtime_api_version: version } }) },
        { name: "Status (verbose, with containerd's config)", service: "runtime", method: "Status", request: () => ({ verbose: true }), expected: "ok" },
        { name: "PodSandboxStatus (verbose)", service: "runtime", method: "PodSandboxStatus", request: () => ({ pod_sandbox_id: podId, verbose: true }), expected: "ok", check: (o) => expect(o).toMatchObject({ ok: { status: { id: podId, state: 0 } } }) },
        { name: "ListPodSandbox", service: "runtime", method: "ListPodSandbox", request: () => ({}), expected: "ok" },
        { name: "ListPodSandbox with a filter", service: "runtime", method: "ListPodSandbox", request: () => ({ filter: { id: podId } }), expected: "ok", check: (o) => expect((o as { ok: { items: unknown[] } }).ok.items).toHaveLength(1) },
        { name: "ContainerStatus (verbose, with the pid and the OCI spec)", service: "runtime", method: "ContainerStatus", request: () => ({ container_id: target, verbose: true }), expected: "ok", check: (o) => expect(o).toMatchObject({ ok: { status: { id: target, state: 1 } } }) },
        { name: "ListContainers", service: "runtime", method: "ListContainers", request: () => ({}), expected: "ok" },
        { name: "ListContainers with a filter", service: "runtime", method: "ListContainers", request: () => ({ filter: { id: target } }), expected: "ok", check: (o) => expect((o as { ok: { containers: unknown[] } }).ok.containers).toHaveLength(1) },
        { name: "ContainerStats", service: "runtime", method: "ContainerStats", request: () => ({ container_id: target }), expected: "ok", how: { stats: true } },
        { name: "ListContainerStats", service: "runtime", method: "ListContainerStats", request: () => ({ filter: { pod_sandbox_id: podId } }), expected: "ok", how: { stats: true } },
        // a host-network pod with no cgroup parent: containerd 1.6 has no cgroup to read its stats from
        { name: "PodSandboxStats", service: "runtime", method: "PodSandboxStats", request: () => ({ pod_sandbox_id: podId }), expected: 2, check: (o) => expect(o).toMatchObject({ details: expect.stringContaining("cgroupPath is empty") }) },
        { name: "ListPodSandboxStats", service: "runtime", method: "ListPodSandboxStats", request: () => ({ filter: { id: podId } }), expected: 2 },
        { name: "Exec (a streaming URL)", service: "runtime", method: "Exec", request: () => ({ container_id: target, cmd: ["sh"], stdout: true }), expected: "ok", check: (o) => expect(o).toMatchObject({ ok: { url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/exec\/<token>$/) } }) },
        { name: "Attach (a streaming URL)", service: "runtime", method: "Attach", request: () => ({ container_id: target, stdout: true }), expected: "ok" },
        { name: "PortForward (a streaming URL)", service: "runtime", method: "PortForward", request: () => ({ pod_sandbox_id: podId, port: [8080] }), expected: "ok" },
        { name: "UpdateRuntimeConfig", service: "runtime", method: "UpdateRuntimeConfig", request: () => ({ runtime_config: { network_config: { pod_cidr: "10.88.0.0/16" } } }), expected: "ok" },
        { name: "ListImages", service: "image", method: "ListImages", request: () => ({}), expected: "ok" },
        { name: "ImageStatus (verbose)", service: "image", method: "ImageStatus", request: () => ({ image: { image: containerd.image }, verbose: true }), expected: "ok", check: (o) => expect(o).toMatchObject({ ok: { image: { repo_tags: [containerd.image] } } }) },
        { name: "ImageStatus of an image containerd does not have (no image, no error)", service: "image", method: "ImageStatus", request: () => ({ image: { image: "localhost/no-such-image:1" } }), expected: "ok", check: (o) => expect(o).toEqual({ ok: { image: null, info: {} } }) },
        { name: "ImageFsInfo", service: "image", method: "ImageFsInfo", request: () => ({}), expected: "ok", how: { stats: true } },
        // PullImage is intercepted (postPull), but a failed pull is containerd's answer as it is
        { name: "PullImage from a registry that refuses connections", service: "image", method: "PullImage", request: () => ({ image: { image: "127.0.0.1:1/none:1" } }), expected: 2, check: (o) => expect(o).toMatchObject({ details: expect.stringMatching(/^failed to pull and unpack image "127\.0\.0\.1:1\/none:1": .*connection refused$/) }) },
        // errors on ids containerd does not know
        ...["ContainerStatus", "StartContainer", "StopContainer", "UpdateContainerResources", "ReopenContainerLog", "ContainerStats", "ExecSync", "Exec", "Attach"].map(
          (method): ReadCase => ({
            name: `${method} of an unknown container`,
            service: "runtime",
            method,
            request: () => ({ container_id: "no-such-container", cmd: ["true"], stdout: true }),
            expected: 5,
            check: (o) => expect(o).toMatchObject({ details: expect.stringMatching(/not found$/) }), // containerd's words differ per method
          }),
        ),
        { name: "RemoveContainer of an unknown container (done, as the CRI says)", service: "runtime", method: "RemoveContainer", request: () => ({ container_id: "no-such-container" }), expected: "ok" },
        ...["PodSandboxStatus", "StopPodSandbox", "PortForward", "PodSandboxStats"].map(
          (method): ReadCase => ({
            name: `${method} of an unknown pod`,
            service: "runtime",
            method,
            request: () => ({ pod_sandbox_id: "no-such-pod", port: [80] }),
            expected: 5,
            check: (o) => expect(o).toMatchObject({ details: expect.stringMatching(/not found$/) }),
          }),
        ),
        { name: "RemovePodSandbox of an unknown pod (done, as the CRI says)", service: "runtime", method: "RemovePodSandbox", request: () => ({ pod_sandbox_id: "no-such-pod" }), expected: "ok" },
        { name: "RemoveImage of an image containerd does not have (done, as the CRI says)", service: "image", method: "RemoveImage", request: () => ({ image: { image: "localhost/no-such-image:1" } }), expected: "ok" },
        ...(version === "v1"
          ? [{ name: "CheckpointContainer, which containerd 1.6 does not implement", service: "runtime", method: "CheckpointContainer", request: () => ({ container_id: target, location: "/tmp/none.tar" }), expected: 12, check: (o: Outcome) => expect(o).toEqual({ code: 12, details: "method CheckpointContainer not implemented" }) } satisfies ReadCase]
          : []),
      ];

      for (const c of reads) {
        const what = c.expected === "ok" ? "the same reply" : `the same status ${c.expected} and message`;
        it(`${c.name}: ${what} through the relay as directly`, async () => {
          const outcomes = await both((cl) => cl[c.service](c.method, c.request()), c.how);
          expect(outcomes.relay).toEqual(outcomes.direct);
          if (c.expected === "ok") expect(outcomes.relay).toHaveProperty("ok");
          else expect(outcomes.relay).toMatchObject({ code: c.expected });
          c.check?.(outcomes.relay);
        });
      }

      it("ExecSync: the same stdout, stderr and exit code through the relay as directly", async () => {
        const outcomes = await both((cl) => cl.runtime("ExecSync", { container_id: target, cmd: ["sh", "-c", "echo out; echo err >&2; exit 3"], timeout: 10 }));
        expect(outcomes.relay).toEqual(outcomes.direct);
        expect(outcomes.relay).toEqual({ ok: { stdout: "out\n", stderr: "err\n", exit_code: 3 } });
      });

      it("ExecSync: the same 1.3 MB of stdout through the relay as directly", async () => {
        const outcomes = await both((cl) => cl.runtime("ExecSync", { container_id: target, cmd: ["seq", "1", "200000"], timeout: 20 }));
        expect(outcomes.relay).toEqual(outcomes.direct);
        const stdout = (outcomes.relay as { ok: { stdout: string } }).ok.stdout;
        expect(stdout.length).toBeGreaterThan(1_200_000);
        expect(stdout.endsWith("199999\n200000\n")).toBe(true);
      }, 30_000);

      it("ExecSync with a 1 s deadline: containerd ends it at the deadline itself (the relay passes grpc-timeout on), with the same status and message through the relay as directly", async () => {
        // plain HTTP/2 calls, which do not end at the deadline themselves: only containerd can, and it answers UNKNOWN
        const body = frameMessage(execSyncRequest(target, ["sleep", "5"]));
        const replies = await Promise.all(sides.map((side) => http2Call(socketOf[side], `/runtime.${version}.RuntimeService/ExecSync`, body, { "grpc-timeout": "1000m" })));
        const [viaRelay, straight] = replies.map((r) => ({ status: r.status, message: normalise(r.message, { own: true }) }));
        expect(viaRelay).toEqual(straight);
        expect(viaRelay).toEqual({ status: "2", message: 'failed to exec in container: failed to kill exec "<id>": context deadline exceeded: unknown' });
        for (const r of replies) {
          expect(r.ms).toBeGreaterThanOrEqual(950);
          expect(r.ms).toBeLessThan(4_000);
        }
      }, 30_000);

      it("ExecSync cancelled by the caller: the relay cancels containerd's call, and containerd kills the command", async () => {
        const marker = version === "v1" ? "31" : "32";
        const running = async (): Promise<boolean> => {
          const ps = await direct.runtime<{ stdout: Buffer }>("ExecSync", { container_id: target, cmd: ["ps", "-o", "args"], timeout: 10 });
          return Buffer.from(ps.stdout).toString().split("\n").some((line) => line.trim() === `sleep ${marker}`);
        };
        const controller = new AbortController();
        const call = outcomeOf(client.relay.runtime("ExecSync", { container_id: target, cmd: ["sleep", marker], timeout: 60 }, { signal: controller.signal }));
        const started = Date.now();
        while (!(await running())) {
          if (Date.now() - started > 10_000) throw new Error("the command never started");
          await sleep(100);
        }
        controller.abort();
        expect(await call).toMatchObject({ code: 1 }); // CANCELLED
        const cancelled = Date.now();
        while (await running()) {
          if (Date.now() - cancelled > 10_000) throw new Error(`sleep ${marker} still runs 10 s after the cancel: containerd's call was not cancelled`);
          await sleep(100);
        }
      }, 30_000);

      // ---- methods containerd does not serve, and a server stream ----

      if (version === "v1") {
        it("GetContainerEvents (a server stream), which containerd 1.6 does not implement: the same UNIMPLEMENTED through the relay as directly", async () => {
          const [viaRelay, straight] = await Promise.all(sides.map((side) => rawServerStream(raw[side], "/runtime.v1.RuntimeService/GetContainerEvents", Buffer.alloc(0), { timeoutMs: 5_000 })));
          expect({ code: viaRelay!.code, details: viaRelay!.details, messages: viaRelay!.messages }).toEqual({ code: straight!.code, details: straight!.details, messages: straight!.messages });
          expect(viaRelay!.code).toBe(12);
          expect(viaRelay!.details).toBe("method GetContainerEvents not implemented");
        });
      }

      const unknownPaths = [
        `/runtime.${version}.RuntimeService/ListMetricDescriptors`, // cri-api v0.26+
        `/runtime.${version}.RuntimeService/ListPodSandboxMetrics`,
        ...(version === "v1alpha2" ? ["/runtime.v1alpha2.RuntimeService/CheckpointContainer", "/runtime.v1alpha2.RuntimeService/GetContainerEvents"] : []),
        `/runtime.${version}.NoSuchService/Call`,
      ];
      it(`methods outside the proto (${unknownPaths.map((p) => p.split(".").at(-1)).join(", ")}): containerd's own UNIMPLEMENTED through the relay as directly`, async () => {
        for (const path of unknownPaths) {
          const [viaRelay, straight] = [await rawUnary(raw.relay, path, Buffer.alloc(0), { timeoutMs: 5_000 }), await rawUnary(raw.direct, path, Buffer.alloc(0), { timeoutMs: 5_000 })];
          expect({ path, code: viaRelay.code, details: viaRelay.details }).toEqual({ path, code: straight.code, details: straight.details });
          expect(viaRelay.code).toBe(12);
          expect(viaRelay.details).toMatch(/^unknown (method|service) /);
        }
      });

      // ---- calls that make, change or remove: each side on its own object, made directly; the same results ----

      /** Runs `act` through each side on the object `setup` made for it (directly), then `inspect` directly; both normalised. */
      const eachOwn = async <T>(setup: (side: Side) => Promise<T>, act: (c: CriClient, made: T, side: Side) => Promise<unknown>, inspect: (made: T, reply: unknown) => Promise<unknown>): Promise<Record<Side, { outcome: Outcome; after: Outcome }>> => {
        const out = {} as Record<Side, { outcome: Outcome; after: Outcome }>;
        for (const side of sides) {
          const made = await setup(side);
          const outcome = await outcomeOf(act(client[side], made, side));
          const after = await outcomeOf(inspect(made, "ok" in outcome ? outcome.ok : undefined));
          const how = { own: true };
          const n = (o: Outcome): Outcome => ("ok" in o ? { ok: normalise(o.ok, how) } : { code: o.code, details: normalise(o.details, how) as string });
          out[side] = { outcome: n(outcome), after: n(after) };
        }
        return out;
      };
      const podStatus = (id: string): Promise<unknown> => direct.runtime("PodSandboxStatus", { pod_sandbox_id: id });
      const containerStatus = (id: string): Promise<unknown> => direct.runtime("ContainerStatus", { container_id: id });

      it("RunPodSandbox: the same reply and the same ready pod through the relay as directly", async () => {
        const results = await eachOwn(
          async (side) => `run-${version}-${side}`,
          (c, name) => c.runtime("RunPodSandbox", { config: podConfig(name) }),
          (_name, reply) => podStatus((reply as { pod_sandbox_id: string }).pod_sandbox_id),
        );
        expect(results.relay).toEqual(results.direct);
        expect(results.relay.outcome).toEqual({ ok: { pod_sandbox_id: "<id>" } });
        expect(results.relay.after).toMatchObject({ ok: { status: { state: 0, metadata: { name: `run-${version}-<side>` } } } });
      });

      it("StopPodSandbox: the same reply and the same stopped pod through the relay as directly", async () => {
        const results = await eachOwn(
          (side) => runPod(`stop-${version}-${side}`),
          (c, id) => c.runtime("StopPodSandbox", { pod_sandbox_id: id }),
          (id) => podStatus(id),
        );
        expect(results.relay).toEqual(results.direct);
        expect(results.relay.outcome).toEqual({ ok: {} });
        expect(results.relay.after).toMatchObject({ ok: { status: { state: 1 } } });
      });

      it("RemovePodSandbox: the same reply through the relay as directly, and the pod is gone", async () => {
        const results = await eachOwn(
          async (side) => {
            const id = await runPod(`rm-${version}-${side}`);
            await direct.runtime("StopPodSandbox", { pod_sandbox_id: id });
            return id;
          },
          (c, id) => c.runtime("RemovePodSandbox", { pod_sandbox_id: id }),
          (id) => podStatus(id),
        );
        expect(results.relay).toEqual(results.direct);
        expect(results.relay.outcome).toEqual({ ok: {} });
        expect(results.relay.after).toEqual({ code: 5, details: "an error occurred when try to find sandbox: not found" });
      });

      it("CreateContainer (through the plugins, which change nothing here): the same reply and the same created container through the relay as directly", async () => {
        const results = await eachOwn(
          async (side) => `create-${side}`,
          (c, name) => c.runtime("CreateContainer", { pod_sandbox_id: podId, config: containerConfig(name, containerd.image, { labels: { l: "1" }, envs: [{ key: "E", value: "1" }] }), sandbox_config: pod }),
          (_name, reply) => direct.runtime("ContainerStatus", { container_id: (reply as { container_id: string }).container_id }),
        );
        expect(results.relay).toEqual(results.direct);
        expect(results.relay.outcome).toEqual({ ok: { container_id: "<id>" } });
        expect(results.relay.after).toMatchObject({ ok: { status: { state: 0, labels: { l: "1" }, metadata: { name: "create-<side>" } } } });
      });

      it("StartContainer: the same reply and the same running container through the relay as directly", async () => {
        const results = await eachOwn(
          (side) => createContainer(`start-${side}`, false),
          (c, id) => c.runtime("StartContainer", { container_id: id }),
          (id) => containerStatus(id),
        );
        expect(results.relay).toEqual(results.direct);
        expect(results.relay.outcome).toEqual({ ok: {} });
        expect(results.relay.after).toMatchObject({ ok: { status: { state: 1 } } });
      });

      it("StopContainer: the same reply and the same exited container (SIGKILL, 137) through the relay as directly", async () => {
        const results = await eachOwn(
          (side) => createContainer(`stop-${side}`, true),
          (c, id) => c.runtime("StopContainer", { container_id: id, timeout: 0 }),
          (id) => containerStatus(id),
        );
        expect(results.relay).toEqual(results.direct);
        expect(results.relay.outcome).toEqual({ ok: {} });
        expect(results.relay.after).toMatchObject({ ok: { status: { state: 2, exit_code: 137 } } });
      });

      it("RemoveContainer: the same reply through the relay as directly, and the container is gone", async () => {
        const results = await eachOwn(
          (side) => createContainer(`rm-${side}`, false),
          (c, id) => c.runtime("RemoveContainer", { container_id: id }),
          (id) => containerStatus(id),
        );
        expect(results.relay).toEqual(results.direct);
        expect(results.relay.outcome).toEqual({ ok: {} });
        expect(results.relay.after).toEqual({ code: 5, details: 'an error occurred when try to find container "<id>": not found' });
      });

      it("UpdateContainerResources: the same reply and the same new resources through the relay as directly", async () => {
        const results = await eachOwn(
          async (side) => own[side],
          (c, id) => c.runtime("UpdateContainerResources", { container_id: id, linux: { cpu_shares: 512, memory_limit_in_bytes: 96 * 1024 * 1024 } }),
          (id) => containerStatus(id),
        );
        expect(results.relay).toEqual(results.direct);
        expect(results.relay.outcome).toEqual({ ok: {} });
        expect(results.relay.after).toMatchObject({ ok: { status: { resources: { linux: { cpu_shares: 512, memory_limit_in_bytes: 96 * 1024 * 1024 } } } } });
      });

      it("ReopenContainerLog: the same reply through the relay as directly", async () => {
        const results = await eachOwn(
          async (side) => own[side],
          (c, id) => c.runtime("ReopenContainerLog", { container_id: id }),
          (id) => containerStatus(id),
        );
        expect(results.relay).toEqual(results.direct);
        expect(results.relay.outcome).toEqual({ ok: {} });
      });

      it("RemoveImage: the same reply through the relay as directly, and the image is gone", async () => {
        const results = await eachOwn(
          async () => {
            const imported = await containerd.ctr(["images", "import", removableArchive], { timeoutMs: 60_000 });
            if (imported.code !== 0) throw new Error(`ctr images import: ${imported.stderr}`);
            return removableImage;
          },
          (c, image) => c.image("RemoveImage", { image: { image } }),
          (image) => direct.image("ImageStatus", { image: { image } }),
        );
        expect(results.relay).toEqual(results.direct);
        expect(results.relay.outcome).toEqual({ ok: {} });
        expect(results.relay.after).toEqual({ ok: { image: null, info: {} } });
        // the sandbox image is untouched
        expect(await direct.image("ImageStatus", { image: { image: containerd.image } })).toMatchObject({ image: { repo_tags: [containerd.image] } });
      }, 60_000);
    });
  }
});
