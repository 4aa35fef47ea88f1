/**
 * What the hook-point routes of the Docker API proxy share: the host whose plugins they run, the engine, where
 * prestart hand-offs go, and where the proxy writes its lines.
 */
import type { IncomingMessage } from "node:http";
import type { Host } from "hookplugins";
import type { EngineApi } from "../engineApi.js";

/** The routes' shared state. */
export interface RouteContext {
  /** The host whose plugins run at each hook point. */
  readonly host: Host;
  /** The engine behind the proxy. */
  readonly engine: EngineApi;
  /** Where the prestart hand-offs for the runtime wrapper go. */
  readonly handoffDir: string;
  /** Writes one line to the proxy's log (stderr by default). */
  readonly log: (line: string) => void;
}

/** The API version prefix of a request ("/v1.41"), or "" when it has none: the proxy's own calls use the same one. */
export function versionPrefix(req: IncomingMessage): string {
  return /^\/v\d+(?:\.\d+)*(?=\/)/.exec(req.url ?? "")?.[0] ?? "";
}

/** The request's query parameters. */
export function queryOf(req: IncomingMessage): URLSearchParams {
  return new URL(req.url ?? "/", "http://docker").searchParams;
}

/** A short name of the request for log lines: "POST /containers/create?name=web". */
export function describeRequest(req: IncomingMessage): string {
  return `${req.method ?? "GET"} ${req.url ?? "/"}`;
}
