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

/** How a container's main process ended, on the wire (`ContainerPlugin.OnExit`'s Exit). */
export interface WireExit {
  /** Exit status (128+n when killed by signal n). */
  readonly Code: number;
  /** The signal that killed it ("SIGKILL"), or null. */
  readonly Signal: string | null;
  /** Whether the OOM killer ended it. */
  readonly OOMKilled: boolean;
  /** When it ended, RFC 3339. */
  readonly FinishedAt: string;
}

/** An image an external image driver supplies (`ImagePlugin.ResolveImage`'s Image). */
export interface WireImage {
  /** The reference it resolved (the request's Ref when absent). */
  readonly Ref?: string;
  /** Absolute path of the root filesystem folder, on the host's machine. */
  readonly Rootfs: string;
  /** The image config (OCI image-spec field names: Env, Cmd, Entrypoint, WorkingDir, User, Labels). */
  readonly Config: Record<string, unknown>;
  /** Content digest, when it has one. */
  readonly Digest?: string;
}

/** One option of a command on the wire. */
export interface WireCommandOption {
  /** Commander syntax: "-n, --name <value>". */
  readonly Flags: string;
  /** One line for --help. */
  readonly Description: string;
  /** The value when not given. */
  readonly DefaultValue?: string | boolean;
}

/** One positional argument of a command on the wire. */
export interface WireCommandArgument {
  /** Its name. */
  readonly Name: string;
  /** One line for --help. */
  readonly Description?: string;
  /** Whether it must be given. */
  readonly Required?: boolean;
  /** Whether it takes the rest of the arguments. */
  readonly Variadic?: boolean;
}

/** A CLI command as data on the wire (`CliPlugin.UpdateCommands`): everything but its action. */
export interface WireCommand {
  /** The command's name. */
  readonly Name: string;
  /** One line for --help. */
  readonly Description: string;
  /** Positional arguments. */
  readonly Arguments?: readonly WireCommandArgument[];
  /** Options. */
  readonly Options?: readonly WireCommandOption[];
  /** Left out of --help. */
  readonly Hidden?: boolean;
  /** The plugin that added it (absent: a built-in); a plugin names itself here for a command it wraps. */
  readonly Plugin?: string;
  /** Set by the host on a built-in it runs itself: a plugin may not remove, wrap, hide or change it. */
  readonly Locked?: boolean;
}

/** `CliPlugin.RunCommand` request: run a command the plugin added. */
export interface RunCommandRequest {
  /** The command's name. */
  readonly Name: string;
  /** Positional arguments. */
  readonly Args: readonly string[];
  /** Option values by camelCase name. */
  readonly Options: Record<string, string | boolean | readonly string[]>;
}

/** `CliPlugin.RunCommand` reply. */
export interface RunCommandReply {
  /** What the command printed (lines ending in "\n"). */
  readonly Output?: string;
  /** Its exit status (default 0). */
  readonly ExitCode?: number;
}

/** The wire call that runs a command an external CliPlugin added (not a hook point: the host's CLI makes it). */
export const runCommandCall = "CliPlugin.RunCommand";

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
