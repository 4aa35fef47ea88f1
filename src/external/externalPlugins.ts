/**
 * Loading external plugins into a registry: find them (discovery), activate each once (with bounded exponential
 * backoff while it is not there yet), check its Capabilities, and register its proxies beside compiled-in plugins.
 */
import { EventEmitter } from "node:events";
import { rm } from "node:fs/promises";
import { setTimeout as sleepFor } from "node:timers/promises";
import type * as TypedEmitterModule from "typed-emitter";
import type { DefaultHostTypes, ExternalPluginEvents, HostExternalPlugins, HostTypes, PluginRegistry, PluginSource, PluginType, Unregister } from "hookplugins";
import { checkCapabilities } from "./capabilities.js";
import { describeSources, discoverPlugins, type DiscoveryProblem, type ExternalSources, type FoundPlugin } from "./discovery.js";
import { ExecutablePlugin, readExecutableCapabilities, type ExecutableOptions } from "./executablePlugin.js";
import { PluginHealth, type HealthOptions } from "./health.js";
import { protocolVersions, type Capabilities } from "./protocol.js";
import { createProxies, type PluginTransport } from "./proxy.js";
import { earlierRunDirs, makeRunDir } from "./runDir.js";
import { cleanStalePlugins, type StalePluginReport } from "./staleProcesses.js";
import { formatPluginAddress, V1CallError, V1Client } from "./v1Client.js";

/** Options of loadExternalPlugins. */
export interface ExternalPluginOptions {
  /** Time limit of each activation call (Activate, Capabilities), in ms (default 10000). */
  readonly activationTimeoutMs?: number;
  /** How long a plugin that is not there yet (or refuses connections) is retried, in ms (default 15000, as Docker). */
  readonly retryTotalMs?: number;
  /** First retry delay, doubled each time, in ms (default 250). */
  readonly retryInitialDelayMs?: number;
  /** Largest reply accepted, in bytes (default 16 MiB). */
  readonly maxReplyBytes?: number;
  /** Most pooled connections per plugin (default 64). */
  readonly maxSockets?: number;
  /** Unhealthy after N consecutive failures, for a cool-down. */
  readonly health?: HealthOptions;
  /** Executable plugins' time limits and idle stop. */
  readonly executables?: ExecutableOptions;
  /**
   * Folder for executables' sockets and pid files (made mode 0700); default: a new temp folder, removed on close.
   * At load, plugins that a host now gone left running there (or in its temp folders) are stopped and listed in `stale`.
   */
  readonly runDir?: string;
  /** "throw" (default): a plugin that cannot be loaded fails the whole load; "skip": it is left out and listed in `failed`. */
  readonly onLoadError?: "throw" | "skip";
}

/** What the host knows about one loaded external plugin. */
export interface ExternalPluginInfo {
  /** Its name. */
  readonly name: string;
  /** Where it was found. */
  readonly source: PluginSource;
  /** The interfaces it is registered as. */
  readonly types: readonly PluginType[];
  /** Its Capabilities. */
  readonly capabilities: Capabilities;
  /** Executables: whether its process runs now; sockets and spec files: undefined (the host does not own the process). */
  readonly running: boolean | undefined;
  /** Executables: its process id while it runs. */
  readonly pid: number | undefined;
  /** Whether it is healthy (not held back after consecutive failures). */
  readonly healthy: boolean;
}

/** A plugin that could not be loaded. */
export class ExternalPluginLoadError extends Error {
  override name = "ExternalPluginLoadError";
  /** The plugin's name. */
  readonly plugin: string;
  /** Why it could not be loaded (the message without the plugin and where it was found). */
  readonly reason: string;
  /** The socket, spec file or executable it was found at (undefined when it was not found). */
  readonly source: PluginSource | undefined;

  /** Creates the error; `where` says where the plugin was looked for or found, `source` where it was found. */
  constructor(plugin: string, where: string, why: string, cause?: unknown, source?: PluginSource) {
    super(`cannot load external plugin "${plugin}" from ${where}: ${why}`, cause === undefined ? undefined : { cause });
    this.plugin = plugin;
    this.reason = why;
    this.source = source;
  }
}

/** The typed emitter of external plugin events. */
export type ExternalEventEmitter = TypedEmitterModule.default<ExternalPluginEvents>;

/**
 * The external plugins loaded into one registry (typed by that registry's host types): what createHost's `external`
 * option takes (HostExternalPlugins), and more.
 */
export interface ExternalPlugins<T extends HostTypes = DefaultHostTypes> extends HostExternalPlugins<T> {
  /** Their events: pluginLog, pluginHealth, pluginProcess. */
  readonly events: ExternalEventEmitter;
  /** Files in the sources that are not usable plugins. */
  readonly problems: readonly DiscoveryProblem[];
  /** Plugins left out because they failed to load (with onLoadError "skip"); each error has its `source`. */
  readonly failed: readonly ExternalPluginLoadError[];
  /** Executable plugin processes (pid files, sockets) that hosts now gone left behind, cleaned at load; each is also a process warning. */
  readonly stale: readonly StalePluginReport[];
  /** Every loaded plugin, in registration order. */
  list(): ExternalPluginInfo[];
  /**
   * Docker's plugins.Get: the plugin `name` (implementing `type`, when given), loaded on first use. A plugin not there
   * yet is looked for again with exponential backoff up to retryTotalMs; concurrent callers share one activation.
   */
  get(name: string, type?: PluginType): Promise<ExternalPluginInfo>;
  /** Stops every process started, closes connections, unregisters the proxies, removes the sockets folder. */
  close(): Promise<void>;
}

interface Loaded {
  readonly found: FoundPlugin;
  readonly capabilities: Capabilities;
  readonly transport: PluginTransport & { close(): unknown };
  readonly executable: ExecutablePlugin | undefined;
  readonly health: PluginHealth;
  unregister: Unregister[];
}

class ExternalPluginSet implements ExternalPlugins<HostTypes> {
  readonly events = new EventEmitter() as unknown as ExternalEventEmitter;
  problems: DiscoveryProblem[] = [];
  failed: ExternalPluginLoadError[] = [];
  stale: StalePluginReport[] = [];
  #staleCleanup: Promise<void> = Promise.resolve();
  readonly #loaded = new Map<string, Loaded>();
  readonly #pending = new Map<string, Promise<Loaded>>();
  /** Aborted by close(): ends the waits between retries of plugins still being loaded. */
  readonly #closing = new AbortController();
  #runDir: Promise<string> | undefined;
  #ownsRunDir = false;
  #closed = false;

  constructor(
    readonly registry: PluginRegistry<HostTypes>,
    readonly sources: ExternalSources,
    readonly options: ExternalPluginOptions,
  ) {}

  runDir = (): Promise<string> =>
    (this.#runDir ??= (async () => {
      await this.#staleCleanup; // before this host marks the folder as its own
      this.#ownsRunDir = !this.options.runDir;
      return makeRunDir(this.options.runDir || undefined);
    })());

  /**
   * Stops what hosts now gone left running in the runtime folders (all findings in `stale`); a plugin it had to stop
   * is also a process warning. Files of plugins that ended with their host (the host pipe rule) are only removed.
   */
  async #cleanStale(): Promise<void> {
    const fixed = this.options.runDir || undefined;
    const graceMs = this.options.executables?.stopGraceMs ?? 3000;
    this.stale = await cleanStalePlugins(await earlierRunDirs(fixed), { graceMs, removeDirs: fixed === undefined });
    for (const report of this.stale) if (report.action === "stopped") process.emitWarning(report.message, { code: "HOOKPLUGINS_STALE_PLUGIN" });
  }

  info(loaded: Loaded): ExternalPluginInfo {
    return {
      name: loaded.found.name,
      source: loaded.found.source,
      types: loaded.capabilities.Plugins.map((p) => p.Type),
      capabilities: loaded.capabilities,
      running: loaded.executable ? loaded.executable.running : undefined,
      pid: loaded.executable?.pid,
      healthy: loaded.health.healthy,
    };
  }

  /**
   * Waits `ms` before the next try at loading `name`. The timer keeps the process alive (a caller awaits it: an
   * unreferenced timer let a process whose only work was this wait end with its load never settled); close() ends it.
   */
  async #pause(ms: number, name: string): Promise<void> {
    try {
      await sleepFor(ms, undefined, { signal: this.#closing.signal });
    } catch {
      throw new Error(`the host closed its external plugins while "${name}" was still being loaded`);
    }
  }

  list(): ExternalPluginInfo[] {
    return [...this.#loaded.values()].map((l) => this.info(l));
  }

  /** Activates a socket or spec plugin: Activate then Capabilities, dialling again with backoff while it refuses. */
  async #activate(found: FoundPlugin, client: V1Client, deadline: number): Promise<Capabilities> {
    const limit = this.options.activationTimeoutMs ?? 10_000;
    let delay = this.options.retryInitialDelayMs ?? 250;
    for (;;) {
      try {
        const manifest = await client.call("Plugin.Activate", undefined, AbortSignal.timeout(limit));
        const implementsList = manifest["Implements"];
        if (!Array.isArray(implementsList) || !implementsList.every((i) => typeof i === "string")) {
          throw new Error(`its Activate reply has no "Implements" list of interface names: ${JSON.stringify(manifest)}`);
        }
        const capabilities = await client.call("Plugin.Capabilities", { ProtocolVersions: protocolVersions }, AbortSignal.timeout(limit));
        return checkCapabilities(capabilities, found.name, implementsList as string[]);
      } catch (error) {
        const retryable = error instanceof V1CallError && error.kind === "connect";
        if (retryable && Date.now() + delay < deadline) {
          await this.#pause(delay, found.name);
          delay *= 2;
          continue;
        }
        if ((error as Error).name === "TimeoutError") throw new Error(`it did not answer activation within ${limit} ms`, { cause: error });
        if (error instanceof V1CallError && error.kind === "status" && error.status === 404 && error.call === "Plugin.Capabilities") {
          throw new Error(`it does not answer Plugin.Capabilities (404), so it is a Docker plugin but not a hook plugin: ${error.message}`);
        }
        throw error;
      }
    }
  }

  async #load(found: FoundPlugin, deadline: number): Promise<Loaded> {
    const where = found.address ? `${found.source.location} (${formatPluginAddress(found.address)})` : found.source.location;
    const clientOptions = { ...(this.options.maxReplyBytes !== undefined && { maxReplyBytes: this.options.maxReplyBytes }), ...(this.options.maxSockets !== undefined && { maxSockets: this.options.maxSockets }) };
    let capabilities: Capabilities;
    let transport: Loaded["transport"];
    let executable: ExecutablePlugin | undefined;
    try {
      if (found.source.kind === "executable") {
        capabilities = await readExecutableCapabilities(found.source.location, found.name, this.options.executables?.capabilitiesTimeoutMs);
        executable = new ExecutablePlugin(found.name, found.source.location, this.runDir, this.options.executables ?? {}, clientOptions, {
          log: (event) => this.events.emit("pluginLog", event),
          process: (event) => this.events.emit("pluginProcess", event),
        });
        transport = executable;
      } else {
        const client = new V1Client(found.address!, clientOptions);
        try {
          capabilities = await this.#activate(found, client, deadline);
        } catch (error) {
          client.close();
          throw error;
        }
        transport = client;
      }
    } catch (error) {
      throw new ExternalPluginLoadError(found.name, where, (error as Error).message, error, found.source);
    }
    const health = new PluginHealth(found.name, this.options.health ?? {}, (change) => this.events.emit("pluginHealth", { plugin: found.name, ...change }));
    return { found, capabilities, transport, executable, health, unregister: [] };
  }

  #register(loaded: Loaded): void {
    const proxies = createProxies({ name: loaded.found.name, capabilities: loaded.capabilities, transport: loaded.transport, source: loaded.found.source, health: loaded.health });
    const registry = this.registry as unknown as Record<string, (plugin: object) => Unregister>;
    try {
      for (const proxy of proxies) loaded.unregister.push(registry[`register${proxy.type}`]!(proxy.plugin));
    } catch (error) {
      for (const undo of loaded.unregister) undo();
      loaded.unregister = [];
      throw new ExternalPluginLoadError(loaded.found.name, loaded.found.source.location, (error as Error).message, error, loaded.found.source);
    }
    this.#loaded.set(loaded.found.name, loaded);
  }

  /** Loads every plugin the sources hold, registering them in discovery order. */
  async loadAll(): Promise<void> {
    if (this.sources.executableDirs?.length) {
      this.#staleCleanup = this.#cleanStale().catch((error: unknown) =>
        process.emitWarning(`cannot clean the executable plugins earlier hosts left running: ${(error as Error).message}`, { code: "HOOKPLUGINS_STALE_PLUGIN" }),
      );
    }
    const discovery = await discoverPlugins(this.sources);
    this.problems = [...discovery.problems];
    const deadline = Date.now() + (this.options.retryTotalMs ?? 15_000);
    const results = await Promise.allSettled(discovery.plugins.map((found) => this.#shared(found.name, () => this.#load(found, deadline))));
    await this.#staleCleanup;
    const errors: ExternalPluginLoadError[] = [];
    results.forEach((result) => {
      if (result.status === "fulfilled") {
        try {
          this.#register(result.value);
        } catch (error) {
          result.value.transport.close();
          errors.push(error as ExternalPluginLoadError);
        }
      } else errors.push(result.reason as ExternalPluginLoadError);
    });
    if (errors.length === 0) return;
    if (this.options.onLoadError === "skip") {
      this.failed = errors;
      return;
    }
    await this.close();
    throw errors.length === 1 ? errors[0] : new AggregateError(errors, `${errors.length} external plugins could not be loaded: ${errors.map((e) => e.message).join("; ")}`);
  }

  #shared(name: string, load: () => Promise<Loaded>): Promise<Loaded> {
    let pending = this.#pending.get(name);
    if (!pending) {
      pending = load().finally(() => this.#pending.delete(name));
      this.#pending.set(name, pending);
    }
    return pending;
  }

  async get(name: string, type?: PluginType): Promise<ExternalPluginInfo> {
    if (this.#closed) throw new Error(`external plugins are closed; cannot get "${name}"`);
    const check = (loaded: Loaded): ExternalPluginInfo => {
      const info = this.info(loaded);
      if (type && !info.types.includes(type)) throw new ExternalPluginLoadError(name, loaded.found.source.location, `it does not implement ${type} (it implements ${info.types.join(", ")})`, undefined, loaded.found.source);
      return info;
    };
    const ready = this.#loaded.get(name);
    if (ready) return check(ready);
    const loaded = await this.#shared(name, async () => {
      const deadline = Date.now() + (this.options.retryTotalMs ?? 15_000);
      let delay = this.options.retryInitialDelayMs ?? 250;
      for (;;) {
        const found = (await discoverPlugins(this.sources)).plugins.find((p) => p.name === name);
        if (found) return this.#load(found, deadline);
        if (Date.now() + delay >= deadline) {
          throw new ExternalPluginLoadError(name, describeSources(this.sources), `no plugin of that name was found within ${this.options.retryTotalMs ?? 15_000} ms (looked for ${name}.sock, ${name}/${name}.sock, ${name}.spec, ${name}.json and executables named ${name})`);
        }
        try {
          await this.#pause(delay, name);
        } catch (error) {
          throw new ExternalPluginLoadError(name, describeSources(this.sources), (error as Error).message, error);
        }
        delay *= 2;
      }
    });
    if (!this.#loaded.has(name)) this.#register(loaded);
    return check(this.#loaded.get(name)!);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort();
    await Promise.allSettled([...this.#pending.values()]);
    const all = [...this.#loaded.values()];
    this.#loaded.clear();
    for (const loaded of all) for (const undo of loaded.unregister) undo();
    await Promise.allSettled(all.map(async (loaded) => loaded.transport.close()));
    if (this.#runDir && this.#ownsRunDir) await rm(await this.#runDir, { recursive: true, force: true });
  }
}

/** Finds the external plugins in `sources`, activates them and registers their proxies in `registry`. */
export async function loadExternalPlugins<T extends HostTypes>(
  registry: PluginRegistry<T>,
  sources: ExternalSources,
  options: ExternalPluginOptions = {},
): Promise<ExternalPlugins<T>> {
  const set = new ExternalPluginSet(registry as unknown as PluginRegistry<HostTypes>, sources, options);
  await set.loadAll();
  return set as unknown as ExternalPlugins<T>;
}
