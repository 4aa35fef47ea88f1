import { createHash } from "node:crypto";
import { PassThrough, Readable, Transform, type TransformCallback } from "node:stream";
import { PluginHookError } from "hookplugins";
import { describe, expect, it } from "vitest";
import { rejectionOf, setup, sleep } from "./helpers.js";

/** A byte-wise transform. */
function mapBytes(fn: (byte: number) => number): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      const out = Buffer.allocUnsafe(chunk.length);
      for (let i = 0; i < chunk.length; i++) out[i] = fn(chunk[i]!) & 0xff;
      callback(null, out);
    },
  });
}

/** Deterministic pseudo-random bytes. */
function bytes(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = seed >>> 0;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** A source that makes `total` bytes on demand in `chunk`-sized pieces and counts how much was pulled. */
function countingSource(total: number, chunk: number): { source: Readable; produced: () => number; data: Buffer } {
  const data = bytes(total, 7);
  let offset = 0;
  const source = new Readable({
    highWaterMark: chunk,
    read() {
      if (offset >= total) {
        this.push(null);
        return;
      }
      const end = Math.min(total, offset + chunk);
      this.push(data.subarray(offset, end));
      offset = end;
    },
  });
  return { source, produced: () => offset, data };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const sha = (buffer: Buffer): string => createHash("sha256").update(buffer).digest("hex");

describe("container preUpdate", () => {
  it("resolves with the body itself when no plugin returns a stream", async () => {
    const { registry, host } = setup();
    registry.registerContainerPlugin({ name: "peek", preUpdate: () => undefined });
    const body = Readable.from(["{}"]);
    expect(await host.container.preUpdate(body)).toBe(body);
  });

  it("passes every byte of a few MB through three transforms in plugin order, nothing lost or duplicated", async () => {
    const { registry, host } = setup();
    // The three steps do not commute, so a wrong order gives other bytes.
    registry.registerContainerPlugin({ name: "xor", priority: 3, preUpdate: (_ctx, body) => body.pipe(mapBytes((b) => b ^ 0x5a)) });
    registry.registerContainerPlugin({ name: "add", priority: 2, preUpdate: async (_ctx, body) => body.pipe(mapBytes((b) => b + 1)) });
    registry.registerContainerPlugin({ name: "mul", priority: 1, preUpdate: (_ctx, body) => body.pipe(mapBytes((b) => b * 3)) });
    const { source, data } = countingSource(3 * 1024 * 1024 + 123, 16 * 1024 + 7);
    const out = await readAll(await host.container.preUpdate(source));
    const expected = Buffer.from(data.map((b) => (((b ^ 0x5a) + 1) & 0xff) * 3));
    expect(out.length).toBe(data.length);
    expect(sha(out)).toBe(sha(expected));
  });

  it("gives each plugin the stream the previous plugin returned", async () => {
    const { registry, host } = setup();
    const seen: Readable[] = [];
    const first = new PassThrough();
    registry.registerContainerPlugin({ name: "first", priority: 1, preUpdate: (_ctx, body) => body.pipe(first) });
    registry.registerContainerPlugin({ name: "second", preUpdate: (_ctx, body) => void seen.push(body) });
    await host.container.preUpdate(Readable.from(["x"]));
    expect(seen[0]).toBe(first);
  });

  it("keeps backpressure: a paused consumer stops the source from being read to the end", async () => {
    const { registry, host } = setup();
    registry.registerContainerPlugin({ name: "t1", preUpdate: (_ctx, body) => body.pipe(mapBytes((b) => b + 1)) });
    registry.registerContainerPlugin({ name: "t2", preUpdate: (_ctx, body) => body.pipe(new PassThrough()) });
    const total = 8 * 1024 * 1024;
    const { source, produced } = countingSource(total, 64 * 1024);
    const out = await host.container.preUpdate(source);
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    await sleep(30);
    // A few highWaterMarks per stage may be buffered, not the whole body.
    expect(produced()).toBeLessThan(total / 4);
    expect((await readAll(out)).length).toBe(total);
    expect(produced()).toBe(total);
  });

  it("keeps backpressure with a slow consumer: the source runs only a bounded amount ahead of what was consumed", async () => {
    const { registry, host } = setup();
    registry.registerContainerPlugin({ name: "t1", preUpdate: (_ctx, body) => body.pipe(mapBytes((b) => b ^ 1)) });
    registry.registerContainerPlugin({ name: "t2", preUpdate: async (_ctx, body) => body.pipe(new PassThrough()) });
    const total = 4 * 1024 * 1024;
    const { source, produced } = countingSource(total, 64 * 1024);
    const out = await host.container.preUpdate(source);
    let consumed = 0;
    let maxAhead = 0;
    for await (const chunk of out) {
      consumed += (chunk as Buffer).length;
      maxAhead = Math.max(maxAhead, produced() - consumed);
      await sleep(1);
    }
    expect(consumed).toBe(total);
    expect(maxAhead).toBeLessThan(total / 4);
  });

  it("makes the result stream error when the request body itself fails", async () => {
    const { registry, host } = setup();
    registry.registerContainerPlugin({ name: "t", preUpdate: (_ctx, body) => body.pipe(new PassThrough()) });
    const cause = new Error("client reset");
    const body = new Readable({
      read() {
        this.destroy(cause);
      },
    });
    const out = await host.container.preUpdate(body);
    expect(await rejectionOf(readAll(out))).toBe(cause);
  });

  it("destroys the plugins' streams when the host destroys the composed stream early", async () => {
    const { registry, host } = setup();
    const pluginStream = new PassThrough();
    registry.registerContainerPlugin({ name: "t", preUpdate: (_ctx, body) => body.pipe(pluginStream) });
    const out = await host.container.preUpdate(countingSource(1024 * 1024, 16 * 1024).source);
    out.destroy();
    await sleep(5);
    expect(pluginStream.destroyed).toBe(true);
  });

  it("makes the result stream error with a PluginHookError naming the plugin whose transform failed", async () => {
    const { registry, host } = setup();
    const cause = new Error("bad chunk");
    let seenBytes = 0;
    registry.registerContainerPlugin({ name: "ok", priority: 2, preUpdate: (_ctx, body) => body.pipe(new PassThrough()) });
    registry.registerContainerPlugin({
      name: "breaker",
      priority: 1,
      preUpdate: (_ctx, body) =>
        body.pipe(
          new Transform({
            transform(chunk: Buffer, _encoding, callback) {
              seenBytes += chunk.length;
              callback(seenBytes > 100_000 ? cause : null, chunk);
            },
          }),
        ),
    });
    registry.registerContainerPlugin({ name: "after", preUpdate: (_ctx, body) => body.pipe(new PassThrough()) });
    const out = await host.container.preUpdate(countingSource(1024 * 1024, 16 * 1024).source);
    const error = await rejectionOf(readAll(out));
    expect(error).toBeInstanceOf(PluginHookError);
    expect((error as PluginHookError).plugin).toBe("breaker");
    expect((error as PluginHookError).hook).toBe("ContainerPlugin.preUpdate");
    expect((error as PluginHookError).cause).toBe(cause);
  });

  it("makes the result stream error when a plugin's stream failed while later plugins were still running", async () => {
    const { registry, host } = setup();
    registry.registerContainerPlugin({
      name: "early-failure",
      priority: 1,
      preUpdate: () => {
        const broken = new PassThrough();
        queueMicrotask(() => broken.destroy(new Error("gone")));
        return broken;
      },
    });
    registry.registerContainerPlugin({ name: "slow", preUpdate: () => sleep(20) });
    const out = await host.container.preUpdate(Readable.from(["x"]));
    const error = await rejectionOf(readAll(out));
    expect(error).toBeInstanceOf(PluginHookError);
    expect((error as PluginHookError).plugin).toBe("early-failure");
    expect((error as Error).message).toMatch(/gone/);
  });

  it("rejects with a PluginHookError when a plugin returns something that is not a stream", async () => {
    const { registry, host } = setup();
    registry.registerContainerPlugin({ name: "not-a-stream", preUpdate: (() => "body") as never });
    const error = await rejectionOf(host.container.preUpdate(Readable.from(["x"])));
    expect(error).toBeInstanceOf(PluginHookError);
    expect((error as PluginHookError).plugin).toBe("not-a-stream");
    expect((error as Error).message).toMatch(/return a Readable stream/);
  });
});
