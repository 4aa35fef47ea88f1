/**
 * Small helpers for node:http: read a body, parse JSON, answer JSON or a Docker-style error.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import { badRequest, toHttpError } from "./httpErrors.js";

/** Largest request body minid reads into memory (image archives are streamed, not read). */
export const maxJsonBody = 4 * 1024 * 1024;

/** Reads a whole stream into a buffer, failing with 413 past `limit` bytes. */
export async function readAll(stream: Readable, limit = maxJsonBody): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size > limit) throw badRequest(`request body larger than ${limit} bytes`);
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/** Reads a JSON object body; an empty body gives `{}`, malformed JSON a 400. */
export async function readJsonObject(stream: Readable): Promise<Record<string, unknown>> {
  const text = (await readAll(stream)).toString("utf8");
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw badRequest(`malformed JSON in request body: ${(err as Error).message}`, err);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw badRequest("request body must be a JSON object");
  }
  return value as Record<string, unknown>;
}

/** Sends `body` as JSON with `status`. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

/** Sends 204 No Content (or another empty status). */
export function sendEmpty(res: ServerResponse, status = 204): void {
  res.writeHead(status);
  res.end();
}

/** Answers `err` the way the Docker Engine does: `{"message": ...}` with the error's status. */
export function sendError(res: ServerResponse, err: unknown): void {
  const httpErr = toHttpError(err);
  if (res.headersSent) {
    // A streaming answer already started: all we can do is end it.
    res.destroy(httpErr);
    return;
  }
  sendJson(res, httpErr.status, { message: httpErr.message });
}

/** A query parameter as a boolean the way the Engine reads them ("1", "true", "True"). */
export function queryFlag(url: URL, name: string): boolean {
  const value = url.searchParams.get(name);
  return value !== null && /^(1|true)$/i.test(value);
}

/** The parsed URL of a request (host part is a placeholder: minid only serves a UNIX socket). */
export function requestUrl(req: IncomingMessage): URL {
  return new URL(req.url ?? "/", "http://minid.sock");
}
