/**
 * PullImage through the relay from a real registry (Debian's docker-registry) that containerd's CRI config marks
 * insecure: ImagePlugin.postPull with containerd's snapshotter and the ImageStatus image; a failing postPull's status;
 * and a caller's deadline and cancellation reaching containerd (a registry that never answers; containerd logs the cancelled pull).
 */
import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { CriPulledImage, ImagePlugin } from "hookplugins";
import { frameMessage } from "../../src/cri/grpcWire.js";
import { encodeMessage } from "../../src/cri/protoCodec.js";
import { criSchema } from "../../src/cri/criSchema.generated.js";
import { startContainerd, containerdTools, type Containerd } from "../support/engines/containerd.js";
import { freePort, registryTools, startRegistry, type Registry } from "../support/engines/registry.js";
import { describeWithTools } from "../support/tools.js";
import { criClient, type CallError, type CriClient } from "./criClient.js";
import { http2Call } from "./rawCalls.js";
import { startRelay, type RelayFixture } from "./relayFixture.js";

/** A TCP server that accepts connections and never answers; records when each closes. */
function silentServer(port: number): Promise<{ server: Server; opened: number; closedAt: number[]; sockets: Set<Socket> }> {
  const state = { opened: 0, closedAt: [] as number[], sockets: new Set<Socket>() };
  const server = createServer((socket) => {
    state.opened++;
    state.sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => {
      state.closedAt.push(Date.now());
      state.sockets.delete(socket);
    });
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve({ server, ...state, get opened() { return state.opened; } })));
}

const until = async (what: string, check: () => boolean, ms: number): Promise<void> => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describeWithTools([...containerdTools, ...registryTools], "hookplugins cri-proxy in front of containerd's CRI plugin: PullImage", () => {
  let registry: Registry;
  let containerd: Containerd;
  let relay: RelayFixture;
  let client: CriClient;
  let silentPort: number;
  let silent: Awaited<ReturnType<typeof silentServer>>;
  let reference: string;

  beforeAll(async () => {
    registry = await startRegistry();
    silentPort = await freePort();
    silent = await silentServer(silentPort);
    containerd = await startContainerd({ cri: true, insecureRegistries: [registry.address, `127.0.0.1:${silentPort}`] });
    // the harness's busybox image, pushed to the registry and removed, so that the pull below is a real one
    reference = `${registry.address}/bb:1`;
    for (const args of [["images", "tag", containerd.image, reference], ["images", "push", "--plain-http", reference, reference], ["images", "rm", reference]]) {
      const r = await containerd.ctr(args, { timeoutMs: 60_000 });
      if (r.code !== 0) throw new Error(`ctr ${args.join(" ")}: ${r.stderr}`);
    }
    relay = await startRelay(containerd.socketPath);
    client = criClient(relay.socketPath);
  }, 120_000);

  afterAll(async () => {
    client?.close();
    await relay?.stop();
    await containerd?.stop();
    for (const socket of silent?.sockets ?? []) socket.destroy();
    await new Promise((r) => (silent ? silent.server.close(r) : r(undefined)));
    await registry?.stop();
  }, 60_000);

  it("runs postPull after a real pull, with containerd's snapshotter and the image's ImageStatus", async () => {
    const seen: { snapshotter: string; image: CriPulledImage }[] = [];
    const plugin: ImagePlugin<CriPulledImage> = { name: "recorder", postPull: (_ctx, snapshotter, image) => void seen.push({ snapshotter, image }) };
    const unregister = relay.registry.registerImagePlugin(plugin as ImagePlugin);
    try {
      const pulled = await client.image<{ image_ref: string }>("PullImage", { image: { image: reference } });
      expect(pulled.image_ref).toMatch(/^sha256:/);
      expect(seen).toHaveLength(1);
      expect(seen[0]!.snapshotter).toBe("overlayfs");
      expect(seen[0]!.image.id).toBe(pulled.image_ref);
      expect(seen[0]!.image.repo_tags).toContain(reference);
      expect(seen[0]!.image.Id).toBe(pulled.image_ref); // the Docker-style view of the same image
      expect(seen[0]!.image.Size).toBeGreaterThan(0);
    } finally {
      unregister();
    }
  }, 60_000);

  it("answers a pull whose postPull fails with the plugin's message, and the image stays stored", async () => {
    const plugin: ImagePlugin = { name: "scanner", postPull: () => Promise.reject(new Error("image not scanned; run the scanner first")) };
    const unregister = relay.registry.registerImagePlugin(plugin);
    try {
      const error = (await client.image("PullImage", { image: { image: reference } }).catch((e: unknown) => e)) as CallError;
      expect(error.code).toBe(9);
      expect(error.details).toBe('plugin "scanner" failed in ImagePlugin.postPull: image not scanned; run the scanner first');
      const status = await client.image<{ image: { id: string } | null }>("ImageStatus", { image: { image: reference } });
      expect(status.image?.id).toMatch(/^sha256:/);
    } finally {
      unregister();
    }
  }, 60_000);

  it("passes the caller's deadline to containerd, which answers DEADLINE_EXCEEDED itself", async () => {
    // a raw HTTP/2 call that does not enforce the deadline itself: only containerd can end it
    const started = Date.now();
    const reply = await http2Call(relay.socketPath, "/runtime.v1.ImageService/PullImage", frameMessage(encodeMessage(criSchema, "PullImageRequest", { image: { image: `127.0.0.1:${silentPort}/hang:1` } })), { "grpc-timeout": "1500m" });
    expect(reply.status).toBe("4");
    expect(reply.message).toMatch(/context deadline exceeded/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
  }, 30_000);

  it("passes a caller's cancellation to containerd, which ends its pull as cancelled", async () => {
    const before = silent.opened;
    const controller = new AbortController();
    const image = `127.0.0.1:${silentPort}/hang:2`;
    const pulling = client.image("PullImage", { image: { image } }, { signal: controller.signal }).catch((e: unknown) => e);
    await until("containerd to reach the registry", () => silent.opened > before, 10_000);
    controller.abort();
    expect(((await pulling) as CallError).code).toBe(1); // CANCELLED
    // containerd keeps its registry connection; its own log says the request's context ended with the caller's cancel
    await until("containerd to log the cancelled pull", () => new RegExp(`PullImage .*${image.replace(/[.]/g, "[.]")}.* failed.*context canceled`).test(containerd.log()), 10_000);
  }, 30_000);
});
