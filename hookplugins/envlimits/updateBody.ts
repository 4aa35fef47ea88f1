/**
 * Applying envlimits to a container update request body (PouchContainer's UpdateConfig: resource fields and Env
 * at the top level), read from and handed on as a stream.
 */
import { Readable } from "node:stream";
import { applyLimits, extractLimits } from "./limits.js";

/** The largest update body envlimits reads; a bigger body is an error (update bodies are a few hundred bytes). */
export const maxUpdateBodyBytes = 1024 * 1024;

/** Reads all of `body`, stopping with an error past maxUpdateBodyBytes or when `signal` aborts. */
export async function readBody(body: Readable, signal: AbortSignal): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body.iterator({ destroyOnReturn: true })) {
    signal.throwIfAborted();
    const buffer = typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array);
    size += buffer.length;
    if (size > maxUpdateBodyBytes) throw new Error(`the update body is larger than ${maxUpdateBodyBytes} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * The update body with HOOKPLUGINS_* limit entries of its Env turned into resource fields. Bodies that are not a
 * JSON object, or have no limit entries, come back byte for byte unchanged (the daemon judges them).
 */
export function rewriteUpdateBody(bytes: Buffer): Buffer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString("utf8"));
  } catch {
    return bytes;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return bytes;
  const body = parsed as Record<string, unknown>;
  const env = body["Env"];
  if (!Array.isArray(env) || !env.every((e): e is string => typeof e === "string")) return bytes;
  const { limits, env: rest, removed } = extractLimits(env);
  if (removed === 0) return bytes;
  body["Env"] = rest;
  applyLimits(body, limits);
  return Buffer.from(JSON.stringify(body));
}

/** preUpdate's work: reads `body`, rewrites it, and returns a stream of the result. */
export async function transformUpdateBody(body: Readable, signal: AbortSignal): Promise<Readable> {
  const bytes = await readBody(body, signal);
  return Readable.from([rewriteUpdateBody(bytes)]);
}
