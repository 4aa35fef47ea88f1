/**
 * The snapshotter ImagePlugin.postPull names, against a fake runtime (no containerd needed): asked of the runtime's
 * verbose Status once per connection, not per pull, and asked again after the runtime restarted with another config.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Http2Server, type ServerHttp2Session } from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CriPulledImage, ImagePlugin } from "hookplugins";
import { encodeMessage } from "../../src/cri/protoCodec.js";
import { criSchema } from "../../src/cri/criSchema.generated.js";
import { frameMessage } from "../../src/cri/grpcWire.js";
import { http2Call } from "./rawCalls.js";
import { startRelay, type RelayFixture } from "./relayFixture.js";

/** A fake runtime whose CRI config names `snapshotter`; counts the Status calls it gets. */
async function fakeRuntime(socketPath: string, snapshotter: string): Promise<{ statusCalls: number; stop(): Promise<void> }> {
  const sessions = new Set<ServerHttp2Session>();
  const server: Http2Server = createServer();
  const state = { statusCalls: 0 };
  server.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
  });
  server.on("stream", (stream, headers) => {
    stream.resume();
    stream.on("end", () => {
      const path = headers[":path"] ?? "";
      const method = path.slice(path.lastIndexOf("/") + 1);
      let reply: Uint8Array;
      if (method === "PullImage") {
        reply = encodeMessage(criSchema, "PullImageResponse", { image_ref: `sha256:${"1".repeat(64)}` });
      } else if (method === "ImageStatus") {
        reply = encodeMessage(criSchema, "ImageStatusResponse", { image: { id: `sha256:${"1".repeat(64)}`, repo_tags: ["example/app:1"], size: 42 } });
      } else if (method === "Status") {
        state.statusCalls++;
        reply = encodeMessage(criSchema, "StatusResponse", { info: { config: JSON.stringify({ containerd: { snapshotter } }) } });
      } else {
        stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "12" }, { endStream: true });
        return;
      }
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      stream.end(frameMessage(reply));
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    get statusCalls() {
      return state.statusCalls;
    },
    async stop() {
      for (const session of sessions) session.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("hookplugins cri-proxy: the snapshotter postPull names", () => {
  let dir: string;
  let socketPath: string;
  let relay: RelayFixture;
  const seen: string[] = [];
  const plugin: ImagePlugin<CriPulledImage> = { name: "recorder", postPull: (_ctx, snapshotter) => void seen.push(snapshotter) };
  const pull = (): ReturnType<typeof http2Call> =>
    http2Call(relay.socketPath, "/runtime.v1.ImageService/PullImage", frameMessage(encodeMessage(criSchema, "PullImageRequest", { image: { image: "example/app:1" } })));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hpcri-snap-"));
    socketPath = join(dir, "runtime.sock");
    relay = await startRelay(socketPath);
    relay.registry.registerImagePlugin(plugin as never);
  });

  afterAll(async () => {
    await relay?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("is asked of the runtime once per connection, and asked again after the runtime restarted with another config", async () => {
    const first = await fakeRuntime(socketPath, "native");
    for (let i = 0; i < 3; i++) expect((await pull()).status).toBe("0");
    expect(first.statusCalls).toBe(1);
    await first.stop();
    const second = await fakeRuntime(socketPath, "zfs");
    try {
      // the first call after the restart may meet the old connection's end; the one after it is on the new one
      await pull();
      expect((await pull()).status).toBe("0");
      expect(second.statusCalls).toBe(1);
      expect(seen.slice(0, 3)).toEqual(["native", "native", "native"]);
      expect(seen.at(-1)).toBe("zfs");
    } finally {
      await second.stop();
    }
  });
});
