import { once } from "node:events";
import { PassThrough, Readable } from "node:stream";
import { PluginHookError, type HookErrorEvent } from "hookplugins";
import { describe, expect, it } from "vitest";
import { rejectionOf, setup, sleep } from "./helpers.js";

const SIZE = 1024 * 1024 + 17; // far beyond every highWaterMark (16 KB, 64 KB)

function body(): { source: Readable; data: Buffer } {
  const data = Buffer.alloc(SIZE);
  for (let i = 0; i < SIZE; i++) data[i] = (i * 31) & 0xff;
  const chunks: Buffer[] = [];
  for (let at = 0; at < SIZE; at += 16 * 1024) chunks.push(data.subarray(at, Math.min(SIZE, at + 16 * 1024)));
  return { source: Readable.from(chunks, { objectMode: false }), data };
}

/** Reads the whole stream, failing with "stalled" when nothing settles in 5 s. */
async function readAllOrStall(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const read = (async () => {
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  })();
  const stall = sleep(5_000).then(() => {
    throw new Error(`stalled after ${chunks.reduce((n, c) => n + c.length, 0)} bytes`);
  });
  return Promise.race([read, stall]);
}

describe("a fail-open preUpdate plugin that fails after it started reading the body", () => {
  it("is detached and the chain goes on from the whole body when it piped the body and threw before any byte flowed", async () => {
    const { registry, host } = setup();
    const own = new PassThrough();
    registry.registerContainerPlugin({
      name: "pipes-then-throws",
      priority: 1,
      failPolicy: "fail-open",
      preUpdate(_ctx, b) {
        b.pipe(own);
        throw new Error("changed my mind");
      },
    });
    const { source, data } = body();
    const out = await host.container.preUpdate(source);
    const bytes = await readAllOrStall(out);
    expect(bytes.equals(data)).toBe(true);
    expect(own.destroyed).toBe(true);
  });

  it("lets a later plugin transform the whole body after the failed plugin was detached", async () => {
    const { registry, host } = setup();
    registry.registerContainerPlugin({
      name: "listens-then-throws",
      priority: 1,
      failPolicy: "fail-open",
      preUpdate(_ctx, b) {
        b.on("data", () => {});
        b.pipe(new PassThrough());
        throw new Error("changed my mind");
      },
    });
    registry.registerContainerPlugin({ name: "copy", preUpdate: (_ctx, b) => b.pipe(new PassThrough()) });
    const { source, data } = body();
    const bytes = await readAllOrStall(await host.container.preUpdate(source));
    expect(bytes.length).toBe(data.length);
    expect(bytes.equals(data)).toBe(true);
  });

  it("makes the result stream error with a PluginHookError naming the plugin when bytes had already flowed into it", async () => {
    const { registry, host } = setup();
    const own = new PassThrough();
    const cause = new Error("failed after reading");
    registry.registerContainerPlugin({
      name: "reads-then-throws",
      failPolicy: "fail-open",
      async preUpdate(_ctx, b) {
        b.pipe(own);
        await once(own, "data");
        throw cause;
      },
    });
    const errors: HookErrorEvent[] = [];
    host.events.on("hookError", (e) => errors.push(e));
    const out = await host.container.preUpdate(body().source);
    const error = await rejectionOf(readAllOrStall(out));
    expect(error).toBeInstanceOf(PluginHookError);
    expect(error).toMatchObject({ plugin: "reads-then-throws", hook: "ContainerPlugin.preUpdate", cause });
    expect(own.destroyed).toBe(true);
    expect(errors.map((e) => e.plugin)).toEqual(["reads-then-throws"]);
  });
});
