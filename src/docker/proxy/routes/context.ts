/**
 * What the hook-point routes of the Docker API proxy share: the host whose plugins they run, the engine, where
 * prestart hand-offs go, where the proxy writes its lines and the order of its observer calls; and small helpers
 * they all use.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ContainerJSON, Host } from "hookplugins";
import type { ContainerOrder } from "../containerOrder.js";
import type { UpstreamClient } from "../upstreamClient.js";

/** The routes' shared state. */
export interface RouteContext {
  /** The host whose plugins run at each hook point. */
  readonly host: Host;
  /** The engine behind the proxy. */
  readonly engine: UpstreamClient;
  /** Where the prestart hand-offs for the runtime wrapper go. */
  readonly handoffDir: string;
  /** Writes one line to the proxy's log (stderr by default). */
  readonly log: (line: string) => void;
  /** The per-container order of observer calls (a start's postStart before the onExit of that run). */
  readonly order: ContainerOrder;
  /** Run ContainerPlugin.postStart after each start (false: no plugin implements it). */
  readonly postStart: boolean;
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

/** A signal aborted when the client's connection closes before its response was finished (the plugins then stop). */
export function clientGone(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) controller.abort(new Error("the client closed the connection"));
  });
  return controller.signal;
}

/** The engine's JSON answer to a GET (undefined body when it is not 200 or not JSON). */
export async function engineJson<T>(engine: UpstreamClient, path: string): Promise<{ status: number; body: T | undefined }> {
  const answer = await engine.request("GET", path);
  if (answer.status !== 200) return { status: answer.status, body: undefined };
  try {
    return { status: answer.status, body: answer.json<T>() };
  } catch {
    return { status: answer.status, body: undefined };
  }
}

/** The engine's inspect of container `id` (`prefix`: the request's API version path, if any). */
export function inspectContainer(engine: UpstreamClient, id: string, prefix = ""): Promise<{ status: number; body: ContainerJSON | undefined }> {
  return engineJson<ContainerJSON>(engine, `${prefix}/containers/${encodeURIComponent(id)}/json`);
}
