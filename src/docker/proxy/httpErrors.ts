/**
 * Docker-style error answers (`{"message": ...}`, which the docker CLI prints after "Error response from daemon: "),
 * and the status that fits each failure: the client's request (400, 413), a plugin's refusal (403), a plugin's time
 * limit (504), an unhealthy external plugin (503), the engine out of reach (502).
 */
import type { ServerResponse } from "node:http";
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

/** The status that fits `error`. */
export function statusOf(error: unknown): number {
  if (error instanceof PluginTimeoutError) return 504;
  if (error instanceof PluginHookError) {
    const cause = error.cause as { name?: unknown } | undefined;
    return cause?.name === "PluginUnhealthyError" ? 503 : 403;
  }
  const status = (error as { status?: unknown; statusCode?: unknown } | null)?.status ?? (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === "number" && status >= 400 && status < 600 ? status : 500;
}

/** Answers `{"message": ...}` with `status` (when the head has not gone out yet; else ends the response). */
export function sendError(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `${JSON.stringify({ message })}\n`;
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

/** Answers `error` as Docker does, with the status that fits it. */
export function sendFailure(res: ServerResponse, error: unknown): void {
  sendError(res, statusOf(error), error instanceof Error ? error.message : String(error));
}
