/**
 * The wire protocol of external plugins: Docker's v1 plugin protocol, its message shapes, and the mapping between
 * the TypeScript hook methods (camelCase) and the wire methods (Docker's PascalCase, "ContainerPlugin.PreCreate").
 */
import { hookMethods, type FailPolicy, type HookName, type PluginType } from "hookplugins";

/** The media type every request accepts, as Docker's clients send it. */
export const pluginMediaType = "application/vnd.docker.plugins.v1.2+json";

/** The media type servers give their replies (clients ignore it). */
export const replyMediaType = "application/vnd.docker.plugins.v1+json";

/** The hook protocol versions this library speaks, newest last. */
export const protocolVersions: readonly number[] = [1];

/** Default cap on a reply (and a request body) in bytes: 16 MiB. */
export const defaultMaxMessageBytes = 16 * 1024 * 1024;

/** `POST /Plugin.Activate` reply: Docker's Manifest. */
export interface ActivateReply {
  /** The interfaces the plugin implements ("ContainerPlugin", "VolumeDriver", ...). */
  readonly Implements: readonly string[];
}

/** One interface entry of a Capabilities reply. */
export interface CapabilityEntry {
  /** Interface name, e.g. "ContainerPlugin". */
  readonly Type: PluginType;
  /** Priority at every hook point of this interface; default 0. */
  readonly Priority?: number;
  /** The hook methods implemented, camelCase ("preCreate"). */
  readonly Hooks: readonly string[];
  /** Per-call time limit in ms the plugin asks for (the host's default when absent). */
  readonly TimeoutMs?: number;
  /** The plugin's failure policy; default "fail-closed". */
  readonly FailPolicy?: FailPolicy;
  /** APIPlugin only: the routes the plugin serves through APIPlugin.Serve. */
  readonly Routes?: readonly ApiRoute[];
}

/** One route an external APIPlugin serves. */
export interface ApiRoute {
  /** HTTP method, upper case. */
  readonly Method: string;
  /** Route path, e.g. "/acme/status". */
  readonly Path: string;
}

/** `POST /Plugin.Capabilities` request body: what the host speaks. */
export interface CapabilitiesRequest {
  /** The hook protocol versions the host speaks. */
  readonly ProtocolVersions: readonly number[];
}

/** `POST /Plugin.Capabilities` reply: the plugin's metadata and hook table. */
export interface Capabilities {
  /** The plugin's name: must be the name it is found by. */
  readonly Name: string;
  /** Plugin version. */
  readonly Version?: string;
  /** One line saying what it does. */
  readonly Description?: string;
  /** Who maintains it. */
  readonly Author?: string;
  /** The protocol version the plugin chose among the host's; absent means 1. */
  readonly ProtocolVersion?: number;
  /** One entry per interface it implements. */
  readonly Plugins: readonly CapabilityEntry[];
}

/** An error reply body, as Docker's plugins send it. */
export interface ErrorReply {
  /** The error message; empty means no error. */
  readonly Err: string;
}

/** `APIPlugin.Serve` request: one HTTP request to one of the plugin's routes. */
export interface ServeRequest {
  /** HTTP method. */
  readonly Method: string;
  /** Request path with query string. */
  readonly Path: string;
  /** Request headers (one value each, lower-case names). */
  readonly Headers: Record<string, string>;
  /** Request body, base64. */
  readonly Body: string;
}

/** `APIPlugin.Serve` reply: the response relayed to the client. */
export interface ServeReply {
  /** HTTP status (default 200). */
  readonly Status?: number;
  /** Response headers. */
  readonly Headers?: Record<string, string>;
  /** Response body, base64. */
  readonly Body?: string;
}

/** Docker's wire method name of a hook method: "preCreate" → "PreCreate"; APIPlugin's updateHandler is "Serve". */
export function wireMethodOf(type: PluginType, method: string): string {
  if (type === "APIPlugin" && method === "updateHandler") return "Serve";
  return method.charAt(0).toUpperCase() + method.slice(1);
}

/** The full wire call of a hook point: "ContainerPlugin.preCreate" → "ContainerPlugin.PreCreate". */
export function wireCallOf(hook: HookName): string {
  const [type, method] = hook.split(".") as [PluginType, string];
  return `${type}.${wireMethodOf(type, method)}`;
}

/** The hook point a wire call names ("ContainerPlugin.PreCreate" → "ContainerPlugin.preCreate"), if any. */
export function hookOfWireCall(call: string): HookName | undefined {
  const dot = call.indexOf(".");
  if (dot < 0) return undefined;
  const type = call.slice(0, dot) as PluginType;
  const methods = (hookMethods as Record<string, readonly string[]>)[type];
  return methods?.map((m) => `${type}.${m}` as HookName).find((hook) => wireCallOf(hook) === call);
}
