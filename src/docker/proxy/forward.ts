/**
 * Sending a request that a hook-point route served on to the engine, and the engine's answer back to the client:
 * the client's own method, target and end-to-end headers, the plugins' body, the engine's status, headers and body
 * as they come.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import type { Readable } from "node:stream";
import type { EngineApi } from "./engineApi.js";

const hopByHop = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "content-length", "host"]);

/** The client's end-to-end headers, with their names as sent. */
export function endToEndHeaders(req: IncomingMessage): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (hopByHop.has(name.toLowerCase())) continue;
    const previous = headers[name];
    headers[name] = previous === undefined ? raw[i + 1]! : `${String(previous)}, ${raw[i + 1]!}`;
  }
  return headers;
}

/** The engine's response headers without the hop-by-hop ones, with their names as sent. */
function responseHeaders(res: IncomingMessage): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  const raw = res.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (hopByHop.has(lower) && lower !== "content-length") continue;
    const previous = headers[name];
    headers[name] = previous === undefined ? raw[i + 1]! : Array.isArray(previous) ? [...previous, raw[i + 1]!] : [String(previous), raw[i + 1]!];
  }
  return headers;
}

/** Sends the client's request on to the engine with `body` (the plugins' version, or the request itself streamed) and resolves with the answer's head. */
export function sendOn(engine: EngineApi, req: IncomingMessage, body: Buffer | Readable, signal?: AbortSignal): Promise<IncomingMessage> {
  return engine.send(req.method ?? "GET", req.url ?? "/", { headers: endToEndHeaders(req), body, ...(signal && { signal }) });
}

/** Writes the engine's answer head to the client. */
export function answerHead(from: IncomingMessage, res: ServerResponse): void {
  res.writeHead(from.statusCode ?? 502, from.statusMessage, responseHeaders(from));
  res.flushHeaders();
}

/** Streams the engine's whole answer to the client (aborting the engine's side when the client goes away). */
export async function answerWith(from: IncomingMessage, res: ServerResponse): Promise<void> {
  answerHead(from, res);
  await pipeline(from, res);
}

/** A signal aborted when the client's connection closes before its response was finished. */
export function clientGone(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) controller.abort(new Error("the client closed the connection"));
  });
  return controller.signal;
}
