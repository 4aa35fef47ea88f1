/**
 * Docker's authorization plugin API (AuthZPlugin.AuthZReq, AuthZPlugin.AuthZRes) on top of a hookplugins host:
 * container and volume create requests run through the host's preCreate and preVolumeCreate as admission checks.
 */
import { PluginHookError, type ContainerCreateConfig, type Host, type VolumeCreateConfig } from "hookplugins";
import { describeChanges, runAttributed, type AttributedChange } from "./changeReport.js";
import { Deadlines } from "./deadlines.js";

/** What the bridge does when plugins would change a request (dockerd cannot apply a changed body). */
export type OnChange = "deny" | "warn" | "allow";

/** The AuthZReq body dockerd sends (the fields the bridge reads). */
export interface AuthzRequest {
  /** HTTP method of the API request. */
  readonly RequestMethod: string;
  /** Its path and query, e.g. "/v1.41/containers/create?name=c1". */
  readonly RequestUri: string;
  /** Its body, base64, present only for JSON bodies. */
  readonly RequestBody?: string;
  /** Its headers, flattened. */
  readonly RequestHeaders?: Readonly<Record<string, string>>;
  /** The user, only with TLS client certificates. */
  readonly User?: string;
}

/** The reply to AuthZReq and AuthZRes. */
export interface AuthzReply {
  /** Whether dockerd may go on. */
  readonly Allow: boolean;
  /** Why not (the docker CLI prints it after "authorization denied by plugin <name>: "). */
  readonly Msg?: string;
}

/** What the authorization handlers need. */
export interface AuthzOptions {
  /** The host whose plugins check the requests. */
  readonly host: Host;
  /** What to do when plugins would change a request; default "deny". */
  readonly onChange?: OnChange;
  /** Longest time one request may take in the plugins before it is denied, in ms (default 10000). */
  readonly requestTimeoutMs?: number;
  /** Where "warn" writes its lines; default stderr. */
  readonly warn?: (line: string) => void;
}

/** The API request kinds the bridge checks. */
type Checked = { kind: "container"; config: ContainerCreateConfig; name: string | undefined } | { kind: "volume"; config: VolumeCreateConfig };

const containerCreate = /^(?:\/v\d+(?:\.\d+)?)?\/containers\/create\/?$/;
const volumeCreate = /^(?:\/v\d+(?:\.\d+)?)?\/volumes\/create\/?$/;

/** A request the bridge cannot read; its message goes into the denial. */
class UnreadableRequest extends Error {}

function decodeBody(request: AuthzRequest, what: string): Record<string, unknown> {
  if (typeof request.RequestBody !== "string" || request.RequestBody === "") {
    throw new UnreadableRequest(`${what} has no JSON body`);
  }
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(request.RequestBody, "base64").toString("utf8"));
  } catch (error) {
    throw new UnreadableRequest(`the body of ${what} is not valid JSON (${(error as Error).message})`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) throw new UnreadableRequest(`the body of ${what} is not a JSON object`);
  return data as Record<string, unknown>;
}

/** Which checked request `body` is (undefined: any other request, allowed as it is). */
export function classifyRequest(body: unknown): Checked | undefined {
  if (typeof body !== "object" || body === null) throw new UnreadableRequest("the AuthZReq body is not a JSON object");
  const request = body as Partial<AuthzRequest>;
  if (typeof request.RequestMethod !== "string" || typeof request.RequestUri !== "string") {
    throw new UnreadableRequest("the AuthZReq has no RequestMethod or RequestUri");
  }
  if (request.RequestMethod.toUpperCase() !== "POST") return undefined;
  let url: URL;
  try {
    url = new URL(request.RequestUri, "http://docker");
  } catch {
    throw new UnreadableRequest(`the request URI ${JSON.stringify(request.RequestUri)} is not a valid path`);
  }
  const path = decodeURIComponent(url.pathname);
  if (containerCreate.test(path)) {
    return { kind: "container", config: decodeBody(request as AuthzRequest, "POST /containers/create") as unknown as ContainerCreateConfig, name: url.searchParams.get("name") ?? undefined };
  }
  if (volumeCreate.test(path)) return { kind: "volume", config: decodeBody(request as AuthzRequest, "POST /volumes/create") as VolumeCreateConfig };
  return undefined;
}

/** Statistics of an authorization bridge, for tests and `--json` status. */
export interface AuthzStats {
  /** AuthZReq calls answered. */
  requests: number;
  /** Of those, denied. */
  denied: number;
}

/** The handlers of AuthZPlugin.AuthZReq and AuthZPlugin.AuthZRes. */
export function createAuthzHandlers(options: AuthzOptions): { handlers: Record<string, (body: unknown) => Promise<AuthzReply> | AuthzReply>; stats: AuthzStats } {
  const onChange = options.onChange ?? "deny";
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  const deadlines = new Deadlines(timeoutMs);
  const warn = options.warn ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const stats: AuthzStats = { requests: 0, denied: 0 };
  const deny = (Msg: string): AuthzReply => {
    stats.denied++;
    return { Allow: false, Msg };
  };

  async function check(checked: Checked, signal: AbortSignal): Promise<AttributedChange[]> {
    const { changes } = await runAttributed(checked.config, (audit) =>
      checked.kind === "container" ? options.host.container.preCreate(checked.config, { audit, signal }) : options.host.volume.preVolumeCreate(checked.config, { audit, signal }),
    );
    return changes;
  }

  async function authzReq(body: unknown): Promise<AuthzReply> {
    stats.requests++;
    let checked: Checked | undefined;
    try {
      checked = classifyRequest(body);
    } catch (error) {
      return deny(`hookplugins cannot read this request, so it is denied: ${(error as Error).message}`);
    }
    if (!checked) return { Allow: true };
    const what = checked.kind === "container" ? "container create" : "volume create";
    let changes: AttributedChange[];
    const deadline = deadlines.start();
    try {
      changes = await check(checked, deadline.signal);
    } catch (error) {
      if (error instanceof PluginHookError) return deny(error.message);
      if (error instanceof DOMException && error.name === "TimeoutError") {
        return deny(`hookplugins did not finish checking this ${what} within ${timeoutMs} ms; it is denied`);
      }
      return deny(`hookplugins failed to check this ${what}: ${(error as Error).message ?? String(error)}`);
    } finally {
      deadline.done();
    }
    if (changes.length === 0 || onChange === "allow") return { Allow: true };
    const list = describeChanges(changes);
    if (onChange === "warn") {
      warn(`hookplugins: allowed a ${what} that plugins would change (Docker cannot apply the change): ${list}`);
      return { Allow: true };
    }
    return deny(
      `plugins would change this ${what}, and Docker cannot apply a changed request: ${list}; set these fields yourself, or run the bridge with --on-change warn or allow`,
    );
  }

  return {
    handlers: {
      "AuthZPlugin.AuthZReq": authzReq,
      // the response comes after the action happened: denying it would only hide the result
      "AuthZPlugin.AuthZRes": () => ({ Allow: true }),
    },
    stats,
  };
}
