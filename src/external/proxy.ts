/**
 * Proxy plugin objects: an external plugin becomes an ordinary plugin object whose hook methods make the wire call,
 * so the host's registry, ordering, errors, time limits, fail policies, events and explain() treat it like any other.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import { PluginAbortedError, PluginTimeoutError } from "../errors.js";
import type { HookContext } from "../plugins/context.js";
import type { HandlerSpec, PluginType } from "../plugins/interfaces.js";
import { pluginSourceKey, type PluginSource } from "../plugins/source.js";
import type { PluginHealth } from "./health.js";
import { wireMethodOf, type ApiRoute, type Capabilities, type CapabilityEntry, type ServeReply } from "./protocol.js";
import { V1CallError } from "./v1Client.js";

/** How proxies reach their plugin: JSON calls and streamed calls. */
export interface PluginTransport {
  /** POSTs `body` as JSON to `call` and resolves with the reply object (a V1CallError when it failed). */
  call(call: string, body: unknown, signal: AbortSignal): Promise<Record<string, unknown>>;
  /** Streams `body` to `call` and resolves with the reply stream. */
  stream(call: string, body: Readable, signal: AbortSignal): Promise<Readable>;
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

/** Whether a failure says the plugin is not working (it counts toward unhealthy), rather than a deliberate answer. */
function countsAgainstHealth(error: unknown, ctx: HookContext): boolean {
  if (ctx.signal.aborted) return ctx.signal.reason instanceof PluginTimeoutError;
  if (error instanceof PluginAbortedError) return false;
  return !(error instanceof V1CallError) || error.kind === "connect" || error.kind === "closed" || error.kind === "protocol";
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
    const wire = (method: string): string => `${entry.Type}.${wireMethodOf(entry.Type, method)}`;
    /** Runs one call under the health rules: a held-back plugin is skipped (fail-open) or fails fast (fail-closed). */
    const guarded = async <T>(ctx: HookContext, run: () => Promise<T>): Promise<T | undefined> => {
      const held = health.check();
      if (held) {
        if (failOpen) return undefined;
        throw held;
      }
      try {
        const result = await run();
        health.succeeded();
        return result;
      } catch (error) {
        if (countsAgainstHealth(error, ctx)) health.failed(error instanceof Error ? error : new Error(String(error)));
        else if (error instanceof V1CallError) health.succeeded();
        throw error;
      }
    };
    const json = (method: string, ctx: HookContext, body: unknown, pick: (call: string, reply: Record<string, unknown>) => unknown) =>
      guarded(ctx, async () => {
        const call = wire(method);
        return pick(call, await transport.call(call, body, ctx.signal));
      });
    const nothing = (): undefined => undefined;

    const methods: Record<string, (...args: never[]) => unknown> = {
      preCreate: (ctx: HookContext, config: unknown) => json("preCreate", ctx, { Config: config }, (c, r) => objectField(c, r, "Config")),
      preStart: (ctx: HookContext, container: unknown) =>
        json("preStart", ctx, { Container: container }, (call, reply) => {
          const hooks = reply["Hooks"];
          if (hooks === undefined || hooks === null) return undefined;
          if (!Array.isArray(hooks)) throw protocolError(call, `has Hooks ${describe(hooks)}; it must be an array of prestart hooks`);
          return hooks;
        }),
      preCreateEndpoint: (ctx: HookContext, containerId: string, env: readonly string[], endpoint: unknown) =>
        json("preCreateEndpoint", ctx, { ContainerID: containerId, Env: env, Endpoint: endpoint }, (c, r) => objectField(c, r, "Endpoint")),
      preUpdate: (ctx: HookContext, body: Readable) => guarded(ctx, () => transport.stream(wire("preUpdate"), body, ctx.signal)),
      postUpdate: (ctx: HookContext, rootfs: string, env: readonly string[]) => json("postUpdate", ctx, { Rootfs: rootfs, Env: env }, nothing),
      preStartHook: (ctx: HookContext) => json("preStartHook", ctx, {}, nothing),
      preStopHook: (ctx: HookContext) => json("preStopHook", ctx, {}, nothing),
      preVolumeCreate: (ctx: HookContext, config: unknown) => json("preVolumeCreate", ctx, { Config: config }, (c, r) => objectField(c, r, "Config")),
      preCreateContainer: (ctx: HookContext, config: unknown, sandboxMeta: unknown) =>
        json("preCreateContainer", ctx, { Config: config, SandboxMeta: sandboxMeta }, (c, r) => objectField(c, r, "Config")),
      postPull: (ctx: HookContext, snapshotter: string, image: unknown) => json("postPull", ctx, { Snapshotter: snapshotter, Image: image }, nothing),
      updateHandler: (_ctx: HookContext, handlers: HandlerSpec[]) => [...handlers, ...(entry.Routes ?? []).map(relayRoute)],
    };

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
