/**
 * Proxy plugin objects: an external plugin becomes an ordinary plugin object whose hook methods make the wire call,
 * so the host's registry, ordering, errors, time limits, fail policies, events and explain() treat it like any other.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import {
  PluginAbortedError,
  PluginTimeoutError,
  type CliCommandSpec,
  type CliInvocation,
  type ContainerExit,
  type HandlerSpec,
  type HookContext,
  type PluginSource,
  type PluginType,
} from "hookplugins";
import { checkWireCommand, deliverRunCommand, fromWireCommand, runCommandRequest, toWireCommand } from "./cliWire.js";
import { abortListenerKey, pluginSourceKey } from "../plugins/registeredSymbols.js";
import type { PluginHealth } from "./health.js";
import { runCommandCall, wireMethodOf, type ApiRoute, type Capabilities, type CapabilityEntry, type RunCommandReply, type ServeReply, type WireExit } from "./protocol.js";
import { V1CallError, type CallCancel } from "./v1Client.js";

/** How proxies reach their plugin: JSON calls and streamed calls. */
export interface PluginTransport {
  /** POSTs `body` as JSON to `call` and resolves with the reply object (a V1CallError when it failed). */
  call(call: string, body: unknown, cancel: CallCancel): Promise<Record<string, unknown>>;
  /** Streams `body` to `call` and resolves with the reply stream. */
  stream(call: string, body: Readable, cancel: CallCancel): Promise<Readable>;
}

/** One proxy object and the interface to register it as. */
export interface PluginProxy {
  /** The interface. */
  readonly type: PluginType;
  /** The plugin object (name, priority, hook methods that call the plugin). */
  readonly plugin: object;
}

/** What proxies are built from. */
export interface ProxyOptions {
  /** The plugin's name (the name it was found by). */
  readonly name: string;
  /** Its Capabilities reply (already checked). */
  readonly capabilities: Capabilities;
  /** How calls reach it. */
  readonly transport: PluginTransport;
  /** Where it comes from (explain(), the CLI). */
  readonly source: PluginSource;
  /** Its health tracker. */
  readonly health: PluginHealth;
}

function protocolError(call: string, message: string): V1CallError {
  return new V1CallError("protocol", call, `the reply of ${call} ${message}`);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `${typeof value} ${JSON.stringify(value)}`;
}

/** The reply's `key` as an object, or undefined when absent or null (meaning: unchanged). */
function objectField(call: string, reply: Record<string, unknown>, key: string): object | undefined {
  const value = reply[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) throw protocolError(call, `has ${key} ${describe(value)}; it must be an object, or absent for "unchanged"`);
  return value;
}

const pickConfig = (call: string, reply: Record<string, unknown>): object | undefined => objectField(call, reply, "Config");
const pickEndpoint = (call: string, reply: Record<string, unknown>): object | undefined => objectField(call, reply, "Endpoint");

/** The reply's Image as a ResolvedImage-shaped object (the host checks its fields), or undefined when null or absent: not this plugin's. */
function pickImage(call: string, reply: Record<string, unknown>, ref: string): object | undefined {
  const image = objectField(call, reply, "Image") as Record<string, unknown> | undefined;
  if (image === undefined) return undefined;
  return {
    ref: image["Ref"] ?? ref,
    rootfs: image["Rootfs"],
    config: image["Config"],
    ...(image["Digest"] !== undefined && { digest: image["Digest"] }),
  };
}

/** An exit as the wire spells it. */
function wireExit(exit: ContainerExit): WireExit {
  return { Code: exit.code, Signal: exit.signal ?? null, OOMKilled: exit.oomKilled, FinishedAt: exit.finishedAt };
}

/** Whether a failure says the plugin is not working (it counts toward unhealthy), rather than a deliberate answer. */
function countsAgainstHealth(error: unknown, ctx: HookContext): boolean {
  if (ctx.signal.aborted) return ctx.signal.reason instanceof PluginTimeoutError;
  if (error instanceof PluginAbortedError) return false;
  return !(error instanceof V1CallError) || error.kind === "connect" || error.kind === "closed" || error.kind === "protocol" || error.kind === "tls";
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Builds the proxy objects of one external plugin: one per interface in its Capabilities. */
export function createProxies(options: ProxyOptions): PluginProxy[] {
  const { name, capabilities, transport, source, health } = options;
  return capabilities.Plugins.map((entry) => ({ type: entry.Type, plugin: proxyFor(entry) }));

  function proxyFor(entry: CapabilityEntry): object {
    const failOpen = entry.FailPolicy === "fail-open";
    const wireCalls = new Map<string, string>();
    const wire = (method: string): string => {
      let call = wireCalls.get(method);
      if (call === undefined) wireCalls.set(method, (call = `${entry.Type}.${wireMethodOf(entry.Type, method)}`));
      return call;
    };
    /** A host's call context is heard for aborts directly; any other context through its signal. */
    const cancelOf = (ctx: HookContext): CallCancel => (abortListenerKey in ctx ? (ctx as unknown as CallCancel) : ctx.signal);
    /** A call refused by the health rules: a held-back plugin is skipped (fail-open) or fails fast (fail-closed). */
    const held = (): Promise<undefined> | undefined => {
      const error = health.check();
      if (error === undefined) return undefined;
      return failOpen ? Promise.resolve(undefined) : Promise.reject(error);
    };
    const settled = <T>(result: T): T => {
      health.succeeded();
      return result;
    };
    const failed = (ctx: HookContext, error: unknown): never => {
      if (countsAgainstHealth(error, ctx)) health.failed(error instanceof Error ? error : new Error(String(error)));
      else if (error instanceof V1CallError) health.succeeded();
      throw error;
    };
    /** One JSON call under the health rules; `pick` takes what the hook returns from the reply (and checks its shape). */
    const json = (method: string, ctx: HookContext, body: unknown, pick: (call: string, reply: Record<string, unknown>) => unknown): Promise<unknown> => {
      const refused = held();
      if (refused !== undefined) return refused;
      const call = wire(method);
      let sent: Promise<Record<string, unknown>>;
      try {
        sent = transport.call(call, body, cancelOf(ctx));
      } catch (error) {
        return Promise.reject(error).catch((e: unknown) => failed(ctx, e));
      }
      return sent.then(
        (reply) => {
          let result: unknown;
          try {
            result = pick(call, reply);
          } catch (error) {
            return failed(ctx, error);
          }
          return settled(result);
        },
        (error: unknown) => failed(ctx, error),
      );
    };
    const nothing = (): undefined => undefined;

    const methods: Record<string, (...args: never[]) => unknown> = {
      preCreate: (ctx: HookContext, config: unknown) => json("preCreate", ctx, { Config: config }, pickConfig),
      preStart: (ctx: HookContext, container: unknown) =>
        json("preStart", ctx, { Container: container }, (call, reply) => {
          const hooks = reply["Hooks"];
          if (hooks === undefined || hooks === null) return undefined;
          if (!Array.isArray(hooks)) throw protocolError(call, `has Hooks ${describe(hooks)}; it must be an array of prestart hooks`);
          return hooks;
        }),
      preCreateEndpoint: (ctx: HookContext, containerId: string, env: readonly string[], endpoint: unknown) =>
        json("preCreateEndpoint", ctx, { ContainerID: containerId, Env: env, Endpoint: endpoint }, pickEndpoint),
      preUpdate: (ctx: HookContext, body: Readable) =>
        held() ??
        transport.stream(wire("preUpdate"), body, ctx.signal).then(
          (out) => settled(out),
          (error: unknown) => failed(ctx, error),
        ),
      postUpdate: (ctx: HookContext, rootfs: string, env: readonly string[]) => json("postUpdate", ctx, { Rootfs: rootfs, Env: env }, nothing),
      preStartHook: (ctx: HookContext) => json("preStartHook", ctx, {}, nothing),
      preStopHook: (ctx: HookContext) => json("preStopHook", ctx, {}, nothing),
      preVolumeCreate: (ctx: HookContext, config: unknown) => json("preVolumeCreate", ctx, { Config: config }, pickConfig),
      preCreateContainer: (ctx: HookContext, config: unknown, sandboxMeta: unknown) =>
        json("preCreateContainer", ctx, { Config: config, SandboxMeta: sandboxMeta }, pickConfig),
      postPull: (ctx: HookContext, snapshotter: string, image: unknown) => json("postPull", ctx, { Snapshotter: snapshotter, Image: image }, nothing),
      updateHandler: (_ctx: HookContext, handlers: HandlerSpec[]) => [...handlers, ...(entry.Routes ?? []).map(relayRoute)],
      postStart: (ctx: HookContext, container: unknown) => json("postStart", ctx, { Container: container }, nothing),
      onExit: (ctx: HookContext, container: unknown, exit: ContainerExit) => json("onExit", ctx, { Container: container, Exit: wireExit(exit) }, nothing),
      resolveImage: (ctx: HookContext, ref: string) => json("resolveImage", ctx, { Ref: ref }, (call, reply) => pickImage(call, reply, ref)),
      updateCommands: (ctx: HookContext, commands: CliCommandSpec[]) =>
        json("updateCommands", ctx, { Commands: commands.map(toWireCommand) }, (call, reply) => {
          const list = reply["Commands"];
          if (list === undefined || list === null) return undefined;
          if (!Array.isArray(list)) throw protocolError(call, `has Commands ${describe(list)}; it must be an array of commands`);
          const given = new Map(commands.map((spec) => [spec.name, spec]));
          return list.map((raw: unknown, i) => {
            let wire;
            try {
              wire = checkWireCommand(raw, `Commands[${i}]`);
            } catch (error) {
              throw protocolError(call, `has ${(error as Error).message}`);
            }
            const before = given.get(wire.Name);
            // a command it was given keeps its action, unless the plugin names itself (it wraps it): then it runs over the wire
            return fromWireCommand(wire, before !== undefined && wire.Plugin !== name ? before.action : runRemote(wire.Name));
          });
        }),
    };

    /** The action of a command the plugin added: CliPlugin.RunCommand, printing what it printed. */
    function runRemote(command: string): CliCommandSpec["action"] {
      return async (invocation: CliInvocation) => {
        const reply = (await transport.call(runCommandCall, runCommandRequest(command, invocation), invocation.signal ?? new AbortController().signal)) as RunCommandReply;
        return deliverRunCommand(reply, invocation);
      };
    }

    /** A route of the host's API that relays each request to the plugin's APIPlugin.Serve. */
    function relayRoute(route: ApiRoute): HandlerSpec {
      const call = wire("updateHandler");
      const timeoutMs = entry.TimeoutMs ?? 10_000;
      const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
        const headers: Record<string, string> = {};
        for (const [key, value] of Object.entries(req.headers)) if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(", ") : value;
        try {
          const body = await readAll(req);
          const signal = timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : new AbortController().signal;
          const reply = (await transport.call(call, { Method: req.method ?? "GET", Path: req.url ?? route.Path, Headers: headers, Body: body.toString("base64") }, signal)) as ServeReply;
          const out = Buffer.from(typeof reply.Body === "string" ? reply.Body : "", "base64");
          res.writeHead(typeof reply.Status === "number" ? reply.Status : 200, { ...(reply.Headers ?? {}), "Content-Length": out.length });
          res.end(out);
        } catch (error) {
          const message = `plugin "${name}" failed in APIPlugin.Serve: ${(error as Error).message}`;
          if (!res.headersSent) res.writeHead(502, { "Content-Type": "application/json" });
          res.end(JSON.stringify({ message }));
        }
      };
      return { method: route.Method.toUpperCase(), path: route.Path, handler };
    }

    const plugin: Record<string | symbol, unknown> = {
      name,
      priority: entry.Priority ?? 0,
      ...(capabilities.Version !== undefined && { version: capabilities.Version }),
      ...(capabilities.Description !== undefined && { description: capabilities.Description }),
      ...(capabilities.Author !== undefined && { author: capabilities.Author }),
      ...(entry.TimeoutMs !== undefined && { timeoutMs: entry.TimeoutMs }),
      failPolicy: failOpen ? "fail-open" : "fail-closed",
      [pluginSourceKey]: source,
    };
    for (const hook of entry.Hooks) plugin[hook] = methods[hook];
    return plugin;
  }
}
