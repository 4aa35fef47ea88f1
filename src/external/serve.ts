/**
 * Serving hook plugin objects over the wire protocol: the same object that runs in-process answers
 * `POST /ContainerPlugin.PreCreate` and friends, so it can run in its own process unchanged.
 */
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  createRegistry,
  hookMethods,
  listenForShutdown,
  pluginTypes,
  type CliCommandSpec,
  type ContainerExit,
  type FailPolicy,
  type HookContext,
  type HookName,
  type PluginRegistry,
  type PluginType,
  type RegisteredPlugin,
} from "hookplugins";
import { checkWireCommand, fromWireCommand, toWireCommand } from "./cliWire.js";
import { protocolVersions, runCommandCall, wireMethodOf, type Capabilities, type CapabilityEntry, type WireCommand } from "./protocol.js";
import { exitWhenHostGone } from "./hostPipe.js";
import { listenV1Plugin, V1PluginError, type V1Handler, type V1ListenOptions, type V1PluginServer, type V1StreamHandler } from "./v1Server.js";

/** What serve() accepts: a plugin object, several (one name, different interfaces), or a registry. */
export type ServablePlugins = object | readonly object[] | { list(): readonly RegisteredPlugin[] };

/** Options of serve(). */
export type ServeOptions = V1ListenOptions & {
  /** Which plugin to serve when the registry or list holds several names. */
  readonly name?: string;
  /** Largest request body accepted, in bytes (default 16 MiB). */
  readonly maxBodyBytes?: number;
  /** Close the server (and remove its socket) on SIGTERM and SIGINT (default true). */
  readonly handleSignals?: boolean;
  /**
   * When a host started this process under the host pipe rule (HOOKPLUGINS_HOST_PIPE=stdin, docs/PROTOCOL.md): close
   * the server, remove its socket and end the process once the host is gone (default true; nothing otherwise).
   */
  readonly exitWithHost?: boolean;
};

/** A hook plugin served over the wire protocol. */
export interface HookPluginServer extends V1PluginServer {
  /** What Plugin.Capabilities answers. */
  readonly capabilities: Capabilities;
}

/** Serving cannot start: the plugins given do not make one servable plugin. */
export class ServeError extends Error {
  override name = "ServeError";
}

interface Served {
  readonly type: PluginType;
  readonly name: string;
  readonly priority: number;
  readonly timeoutMs: number | undefined;
  readonly failPolicy: FailPolicy;
  readonly methods: ReadonlyMap<string, (...args: never[]) => unknown>;
  readonly target: object;
  readonly meta: { version?: string; description?: string; author?: string };
}

function isRegistry(value: unknown): value is { list(): readonly RegisteredPlugin[] } {
  return typeof value === "object" && value !== null && typeof (value as { list?: unknown }).list === "function" && !Array.isArray(value);
}

/** Registers plain plugin objects in a registry of their own, under every interface they implement: the registry's checks apply. */
function registryOf(objects: readonly object[]): PluginRegistry {
  const registry = createRegistry();
  for (const object of objects) {
    const record = object as Record<string, unknown>;
    const types = pluginTypes.filter((t) => hookMethods[t].some((m) => typeof record[m] === "function"));
    if (types.length === 0) throw new ServeError(`serve: ${JSON.stringify(record["name"] ?? "<unnamed>")} implements no hook method of any plugin interface`);
    for (const type of types) (registry[`register${type}`] as (plugin: object) => unknown)(object);
  }
  return registry;
}

function collect(plugins: ServablePlugins, name: string | undefined): Served[] {
  const registry = isRegistry(plugins) ? plugins : registryOf(Array.isArray(plugins) ? plugins : [plugins as object]);
  let served: Served[] = registry
    .list()
    .map((p) => ({ type: p.type, name: p.name, priority: p.priority, timeoutMs: p.timeoutMs, failPolicy: p.failPolicy, methods: p.methods, target: p.plugin, meta: p }));
  if (name !== undefined) served = served.filter((s) => s.name === name);
  const names = [...new Set(served.map((s) => s.name))];
  if (names.length === 0) throw new ServeError(name === undefined ? "serve: there is no plugin to serve" : `serve: there is no plugin named "${name}" to serve`);
  if (names.length > 1) throw new ServeError(`serve: one server serves one plugin, but these have different names: ${names.join(", ")}; pick one with { name }`);
  const api = served.find((s) => s.type === "APIPlugin");
  if (api) {
    throw new ServeError(
      `serve: APIPlugin "${api.name}" cannot be served out of process: its route handlers are functions of this process; serve its other interfaces, or write an external plugin that answers APIPlugin.Serve for its Routes`,
    );
  }
  return served;
}

function capabilitiesOf(served: readonly Served[]): Capabilities {
  const meta = served[0]!.meta;
  return {
    Name: served[0]!.name,
    ...(meta.version !== undefined && { Version: meta.version }),
    ...(meta.description !== undefined && { Description: meta.description }),
    ...(meta.author !== undefined && { Author: meta.author }),
    ProtocolVersion: 1,
    Plugins: served.map(
      (s): CapabilityEntry => ({
        Type: s.type,
        Priority: s.priority,
        Hooks: [...s.methods.keys()],
        ...(s.timeoutMs !== undefined && { TimeoutMs: s.timeoutMs }),
        FailPolicy: s.failPolicy,
      }),
    ),
  };
}

function field(body: unknown, key: string, call: string, kind: "object" | "string" | "array" | "any"): unknown {
  const value = typeof body === "object" && body !== null ? (body as Record<string, unknown>)[key] : undefined;
  const ok =
    kind === "any" ||
    (kind === "object" && typeof value === "object" && value !== null && !Array.isArray(value)) ||
    (kind === "string" && typeof value === "string") ||
    (kind === "array" && Array.isArray(value));
  if (!ok) throw new V1PluginError(`${call}: the request's "${key}" must be a JSON ${kind}`, 400);
  return value;
}

const empty = (): object => ({});

/** `map(result)`, after `result` settles when it is a promise (then the reply is a promise too). */
function after(result: unknown, map: (value: unknown) => unknown): unknown {
  if (typeof result === "object" && result !== null && typeof (result as { then?: unknown }).then === "function") {
    return Promise.resolve(result).then(map);
  }
  return map(result);
}

/** The action of a command the host gave: it runs in the host, never here. */
const hostAction = (): never => {
  throw new Error("this command runs in the host's CLI, not in the plugin's process");
};

/** The exit of an OnExit request. */
function exitOfWire(value: unknown, call: string): ContainerExit {
  const e = value as Record<string, unknown> | null;
  if (typeof e !== "object" || e === null || typeof e["Code"] !== "number" || typeof e["OOMKilled"] !== "boolean" || typeof e["FinishedAt"] !== "string" || (e["Signal"] != null && typeof e["Signal"] !== "string")) {
    throw new V1PluginError(`${call}: the request's "Exit" must be { Code: number, Signal: string | null, OOMKilled: boolean, FinishedAt: string }`, 400);
  }
  return { code: e["Code"], signal: (e["Signal"] ?? undefined) as NodeJS.Signals | undefined, oomKilled: e["OOMKilled"], finishedAt: e["FinishedAt"] };
}

/** The commands of an UpdateCommands request, with actions that say they run in the host. */
function commandsOfWire(body: unknown, call: string): CliCommandSpec[] {
  const list = field(body, "Commands", call, "array") as unknown[];
  return list.map((raw, i) => {
    try {
      return fromWireCommand(checkWireCommand(raw, `Commands[${i}]`), hostAction);
    } catch (error) {
      throw new V1PluginError(`${call}: the request's ${(error as Error).message}`, 400);
    }
  });
}

/** The HookContext of a served call: its signal (aborted when the host goes away) is made only when the plugin reads it. */
class ServedContext implements HookContext {
  constructor(
    private readonly request: { readonly signal: AbortSignal },
    readonly plugin: string,
    readonly hook: HookName,
  ) {}

  get signal(): AbortSignal {
    return this.request.signal;
  }
}

function isReadable(value: unknown): value is Readable {
  const v = value as Partial<Readable> | null;
  return typeof v === "object" && v !== null && typeof v.pipe === "function" && typeof v.on === "function";
}

/** The v1 handlers (and implements list) that serve `plugins`: mount them in your own server, or use serve(). */
export function hookPluginHandlers(
  plugins: ServablePlugins,
  name?: string,
): { readonly implements: string[]; readonly handlers: Record<string, V1Handler | V1StreamHandler>; readonly capabilities: Capabilities } {
  const served = collect(plugins, name);
  const capabilities = capabilitiesOf(served);
  const handlers: Record<string, V1Handler | V1StreamHandler> = {
    "Plugin.Capabilities": (body) => {
      const offered = typeof body === "object" && body !== null ? (body as { ProtocolVersions?: unknown }).ProtocolVersions : undefined;
      if (Array.isArray(offered) && !offered.some((v) => protocolVersions.includes(v as number))) {
        throw new V1PluginError(`this plugin speaks hook protocol ${protocolVersions.join(", ")}, the host offered ${JSON.stringify(offered)}`, 400);
      }
      return capabilities;
    },
  };
  for (const s of served) {
    for (const [method, fn] of s.methods) {
      const hook = `${s.type}.${method}` as HookName;
      const call = `${s.type}.${wireMethodOf(s.type, method)}`;
      // a plugin method's result, a value or a promise of one (a sync plugin's reply is sent without a promise)
      const invoke = (request: { readonly signal: AbortSignal }, ...args: unknown[]): unknown =>
        (fn as (...a: unknown[]) => unknown).call(s.target, new ServedContext(request, s.name, hook), ...args);
      switch (method) {
        case "preCreate":
        case "preVolumeCreate":
          handlers[call] = (body, req) => {
            const config = field(body, "Config", call, "object");
            return after(invoke(req, config), (result) => ({ Config: result ?? config }));
          };
          break;
        case "preCreateContainer":
          handlers[call] = (body, req) => {
            const config = field(body, "Config", call, "object");
            return after(invoke(req, config, field(body, "SandboxMeta", call, "any")), (result) => ({ Config: result ?? config }));
          };
          break;
        case "preCreateEndpoint":
          handlers[call] = (body, req) => {
            const endpoint = field(body, "Endpoint", call, "object");
            const result = invoke(req, field(body, "ContainerID", call, "string"), field(body, "Env", call, "array"), endpoint);
            return after(result, (value) => ({ Endpoint: value ?? endpoint }));
          };
          break;
        case "preStart":
          handlers[call] = (body, req) => after(invoke(req, field(body, "Container", call, "object")), (hooks) => ({ Hooks: hooks ?? [] }));
          break;
        case "postUpdate":
          handlers[call] = (body, req) => after(invoke(req, field(body, "Rootfs", call, "string"), field(body, "Env", call, "array")), empty);
          break;
        case "postPull":
          handlers[call] = (body, req) => after(invoke(req, field(body, "Snapshotter", call, "string"), field(body, "Image", call, "any")), empty);
          break;
        case "postStart":
          handlers[call] = (body, req) => after(invoke(req, field(body, "Container", call, "object")), empty);
          break;
        case "onExit":
          handlers[call] = (body, req) => after(invoke(req, field(body, "Container", call, "object"), exitOfWire(field(body, "Exit", call, "object"), call)), empty);
          break;
        case "resolveImage":
          handlers[call] = (body, req) =>
            after(invoke(req, field(body, "Ref", call, "string")), (image) => {
              if (image === undefined || image === null) return { Image: null };
              const i = image as Record<string, unknown>;
              return { Image: { Ref: i["ref"], Rootfs: i["rootfs"], Config: i["config"], ...(i["digest"] !== undefined && { Digest: i["digest"] }) } };
            });
          break;
        case "updateCommands": {
          // the actions of the commands this plugin added (or wrapped), by name, for RunCommand
          let actions = new Map<string, CliCommandSpec["action"]>();
          const update = (body: unknown, req: { readonly signal: AbortSignal }): unknown => {
            const given = commandsOfWire(body, call);
            return after(invoke(req, given), (result) => {
              const list = (result ?? given) as CliCommandSpec[];
              if (!Array.isArray(list)) throw new V1PluginError(`${call}: the plugin returned something that is not a command list`);
              const mine = new Map<string, CliCommandSpec["action"]>();
              const commands = list.map((spec): WireCommand => {
                if (typeof spec?.action === "function" && spec.action !== hostAction) mine.set(spec.name, spec.action);
                return toWireCommand(mine.has(spec.name) ? { ...spec, plugin: s.name } : spec);
              });
              actions = mine;
              return { Commands: commands };
            });
          };
          handlers[call] = update;
          handlers[runCommandCall] = async (body, req) => {
            const command = field(body, "Name", runCommandCall, "string") as string;
            // a process that has not been asked yet (restarted, or a host that skipped it) asks its plugin now: for
            // the commands it adds, then, if that is not one, for one it replaces, given that command alone
            if (!actions.has(command)) await update({ Commands: [] }, req);
            if (!actions.has(command)) await update({ Commands: [{ Name: command, Description: "" }] }, req);
            const action = actions.get(command);
            if (action === undefined) throw new V1PluginError(`${runCommandCall}: plugin "${s.name}" has no command "${command}"`, 404);
            const args = field(body, "Args", runCommandCall, "array") as string[];
            const options = field(body, "Options", runCommandCall, "object") as Record<string, string | boolean | string[]>;
            const lines: string[] = [];
            const code = await action({ args, options, out: (line) => void lines.push(line), signal: req.signal });
            return { Output: lines.map((line) => `${line}\n`).join(""), ExitCode: typeof code === "number" ? code : 0 };
          };
          break;
        }
        case "preStartHook":
        case "preStopHook":
          handlers[call] = (_body, req) => after(invoke(req), empty);
          break;
        case "preUpdate":
          handlers[call] = {
            stream: async (req, res, signal) => {
              const result = await invoke({ signal }, req);
              const out = result ?? req;
              if (!isReadable(out)) throw new V1PluginError(`${call}: the plugin returned something that is not a stream`);
              res.writeHead(200, { "Content-Type": "application/octet-stream" });
              await pipeline(out, res);
              if (out !== req) req.resume();
            },
          };
          break;
      }
    }
  }
  return { implements: capabilities.Plugins.map((p) => p.Type), handlers, capabilities };
}

/**
 * Serves `plugins` (one plugin: objects of one name, or a registry) over Docker's v1 plugin protocol on a UNIX
 * socket (mode 0600) or a TCP port, over TLS with `{ port, host, tls: { cert, key, ca } }` (client certificates
 * signed by `ca` required unless `requireClientCert: false`); on SIGTERM or SIGINT it stops and removes its socket (unless handleSignals is false),
 * and it ends the process when the host that started it is gone (the host pipe rule; unless exitWithHost is false).
 */
export async function serve(plugins: ServablePlugins, options: ServeOptions): Promise<HookPluginServer> {
  const { implements: implementsList, handlers, capabilities } = hookPluginHandlers(plugins, options.name);
  const server = await listenV1Plugin({ ...options, implements: implementsList, handlers });
  const close = server.close;
  const signals = options.handleSignals === false ? undefined : listenForShutdown();
  let unwatchHost: (() => void) | undefined;
  let closing: Promise<void> | undefined;
  // listeners stay until the server has closed: a repeated signal during close is ignored, not Node's default kill
  const closeAll = (): Promise<void> =>
    (closing ??= close().finally(() => {
      unwatchHost?.();
      signals?.dispose();
    }));
  void signals?.first.then(() => void closeAll());
  if (options.exitWithHost !== false) unwatchHost = exitWhenHostGone(closeAll);
  return { ...server, capabilities, close: closeAll };
}
