/**
 * Reading a hook point's request body: at most a limit (16 MiB by default, kubelet's and moby's message size), then
 * a JSON object, or a clear 400/413 before anything goes to the engine.
 */
import type { IncomingMessage } from "node:http";
import type { Readable } from "node:stream";
import { ProxyHttpError } from "./errorResponse.js";

/** The largest body a hook point reads, in bytes. */
export const maxHookedBodyBytes = 16 * 1024 * 1024;

/** Reads the whole of `req` (a request, a response, or any stream); a 413 ProxyHttpError beyond `limit` bytes (the rest is not read). */
export async function readBody(req: Readable, what: string, limit = maxHookedBodyBytes): Promise<Buffer> {
  const declared = Number((req as Partial<IncomingMessage>).headers?.["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    throw new ProxyHttpError(413, `the body of ${what} is ${declared} bytes, more than the ${limit} bytes hookplugins reads; nothing was sent to the engine`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new ProxyHttpError(413, `the body of ${what} is more than the ${limit} bytes hookplugins reads; nothing was sent to the engine`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Parses `body` as a JSON object (an empty body is `{}`); a 400 ProxyHttpError otherwise. */
export function jsonObject(body: Buffer, what: string): Record<string, unknown> {
  if (body.length === 0) return {};
  let data: unknown;
  try {
    data = JSON.parse(body.toString("utf8"));
  } catch (error) {
    throw new ProxyHttpError(400, `the body of ${what} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) throw new ProxyHttpError(400, `the body of ${what} is not a JSON object`);
  return data as Record<string, unknown>;
}
