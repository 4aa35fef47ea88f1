/**
 * Docker-style JSON error responses (`{"message": "..."}`, which the docker CLI prints after "Error response from
 * daemon: "), as raw bytes for the relay and through a ServerResponse, with the status that fits each failure: the
 * client's request (400, 413), a plugin's refusal (403), a plugin's time limit (504), an unhealthy external plugin
 * (503), the engine out of reach (502).
 */
import { STATUS_CODES, type ServerResponse } from "node:http";
import { PluginHookError, PluginTimeoutError } from "hookplugins";

/** A failure with the HTTP status the proxy answers it with. */
export class ProxyHttpError extends Error {
  override name = "ProxyHttpError";
  /** HTTP status. */
  readonly status: number;

  /** Creates the error. */
  constructor(status: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
  }
}

/** A Docker-style JSON error body. */
function errorBody(message: string): string {
  return `${JSON.stringify({ message })}\n`;
}

/** The raw bytes of an HTTP/1.1 error response with a Docker-style JSON body; `close` adds `Connection: close`. */
export function errorResponseBytes(status: number, message: string, options: { close?: boolean } = {}): Buffer {
  const body = errorBody(message);
  const head =
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}\r\n` +
    "Content-Type: application/json\r\n" +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    (options.close ? "Connection: close\r\n" : "") +
    "\r\n";
  return Buffer.from(head + body, "utf8");
}

/**
 * The HTTP status of an error: 504 for a plugin's time limit, 503 for an external plugin held unhealthy, 403 for any
 * other plugin failure; else its `status` or `statusCode` when that is a number from 400 to 599; else 500.
 */
export function errorStatus(error: unknown): number {
  if (error instanceof PluginTimeoutError) return 504;
  if (error instanceof PluginHookError) return (error.cause as { name?: unknown } | undefined)?.name === "PluginUnhealthyError" ? 503 : 403;
  if (typeof error === "object" && error !== null) {
    for (const key of ["status", "statusCode"] as const) {
      const value = (error as Record<string, unknown>)[key];
      if (typeof value === "number" && Number.isInteger(value) && value >= 400 && value <= 599) return value;
    }
  }
  return 500;
}

/** The message of an error, or its text when it is not an Error. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** `error` itself when it is an Error, else an Error with its text. */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** Answers `res` with `error` as Docker does; when a head was already written, the response is cut off instead. */
export function sendErrorResponse(res: ServerResponse, error: unknown): void {
  const cause = asError(error);
  if (res.headersSent || res.destroyed || res.writableEnded) {
    res.destroy(cause);
    return;
  }
  const body = errorBody(errorMessage(error));
  try {
    res.writeHead(errorStatus(error), { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
  } catch {
    res.destroy(cause); // writeHead was called already: its head cannot be replaced
    return;
  }
  res.end(body);
}
