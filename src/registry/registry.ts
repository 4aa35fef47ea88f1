/**
 * The plugin registry: holds registered plugins per interface, in registration order, and tells listeners of changes.
 */
import { PluginRegistrationError } from "../errors.js";
import type { HookName } from "../plugins/hookPoints.js";
import type { DefaultHostTypes, FailPolicy, HostTypes, PluginsOf, PluginType } from "../plugins/interfaces.js";
import { pluginSourceOf, type PluginSource } from "../plugins/source.js";
import { validatePlugin } from "./validatePlugin.js";

/** A plugin as the registry holds it. */
export interface RegisteredPlugin {
  /** The plugin's name. */
  readonly name: string;
  /** The interface it is registered as. */
  readonly type: PluginType;
  /** Finite priority; higher runs first. */
  readonly priority: number;
  /** The hook points it implements. */
  readonly hooks: readonly HookName[];
  /** Optional plugin version. */
  readonly version: string | undefined;
  /** Optional one-line description. */
  readonly description: string | undefined;
  /** Optional author. */
  readonly author: string | undefined;
  /** Per-plugin timeout, when set. */
  readonly timeoutMs: number | undefined;
  /** Failure policy. */
  readonly failPolicy: FailPolicy;
  /** The registered object itself (hook methods are called with it as `this`). */
  readonly plugin: object;
  /** Registration sequence number within the registry: the tie-break at equal priority. */
  readonly seq: number;
  /** The hook functions as they were at registration, by method name. */
  readonly methods: ReadonlyMap<string, (...args: never[]) => unknown>;
  /** Where the plugin comes from, when the object declares it (external plugins do); undefined: compiled in. */
  readonly source: PluginSource | undefined;
}

/** What changed in a registry. */
export interface RegistryChange {
  /** Whether a plugin arrived or left. */
  readonly kind: "registered" | "unregistered";
  /** The plugin concerned. */
  readonly plugin: RegisteredPlugin;
}

/** Removes the registration it was returned for; calling it again does nothing. */
export type Unregister = () => void;

/** A set of registered plugins that hosts dispatch to. */
export interface PluginRegistry<T extends HostTypes = DefaultHostTypes> {
  /** Registers a ContainerPlugin. */
  registerContainerPlugin(plugin: PluginsOf<T>["ContainerPlugin"]): Unregister;
  /** Registers a DaemonPlugin. */
  registerDaemonPlugin(plugin: PluginsOf<T>["DaemonPlugin"]): Unregister;
  /** Registers a VolumePlugin. */
  registerVolumePlugin(plugin: PluginsOf<T>["VolumePlugin"]): Unregister;
  /** Registers a CriPlugin. */
  registerCriPlugin(plugin: PluginsOf<T>["CriPlugin"]): Unregister;
  /** Registers an APIPlugin. */
  registerAPIPlugin(plugin: PluginsOf<T>["APIPlugin"]): Unregister;
  /** Registers an ImagePlugin. */
  registerImagePlugin(plugin: PluginsOf<T>["ImagePlugin"]): Unregister;
  /** Registers a CliPlugin. */
  registerCliPlugin(plugin: PluginsOf<T>["CliPlugin"]): Unregister;
  /** Registered plugins (of one interface, or all), in registration order. */
  list(type?: PluginType): readonly RegisteredPlugin[];
  /** Bumped on every change; hosts rebuild their dispatch when it moves. */
  readonly version: number;
  /** Calls `listener` on every registration and unregistration; returns a function that stops it. */
  subscribe(listener: (change: RegistryChange) => void): () => void;
  /** Unregisters every plugin. */
  clear(): void;
  /** Unregisters every plugin registered after registration `seq` (what a module that failed half-way registered). */
  unregisterAfter(seq: number): void;
}

function describeOwner(p: RegisteredPlugin): string {
  const parts = [p.version && `version ${p.version}`, p.description && `"${p.description}"`].filter(Boolean);
  return `#${p.seq}${parts.length ? ` (${parts.join(", ")})` : ""}`;
}

class Registry implements PluginRegistry<HostTypes> {
  #plugins: RegisteredPlugin[] = [];
  #listeners = new Set<(change: RegistryChange) => void>();
  #seq = 0;
  version = 0;

  register(type: PluginType, plugin: unknown): Unregister {
    const checked = validatePlugin(type, plugin);
    const clash = this.#plugins.find((p) => p.type === type && p.name === checked.name);
    if (clash) {
      const same = clash.plugin === plugin;
      throw new PluginRegistrationError(
        checked.name,
        type,
        same
          ? `this plugin object is already registered as ${type} "${checked.name}" (registration ${describeOwner(clash)}); call the unregister function it returned before registering it again`
          : `a ${type} named "${checked.name}" is already registered (registration ${describeOwner(clash)}), so this second plugin "${checked.name}"${(plugin as { version?: string }).version ? ` (version ${(plugin as { version?: string }).version})` : ""} cannot be registered too; rename one of them or unregister the first`,
        "name",
      );
    }
    const meta = plugin as { version?: string; description?: string; author?: string };
    const entry: RegisteredPlugin = {
      ...checked,
      type,
      version: meta.version,
      description: meta.description,
      author: meta.author,
      plugin: plugin as object,
      seq: ++this.#seq,
      source: pluginSourceOf(plugin as object),
    };
    this.#plugins.push(entry);
    this.#changed({ kind: "registered", plugin: entry });
    return () => {
      const index = this.#plugins.indexOf(entry);
      if (index === -1) return;
      this.#plugins.splice(index, 1);
      this.#changed({ kind: "unregistered", plugin: entry });
    };
  }

  #changed(change: RegistryChange): void {
    this.version++;
    for (const listener of [...this.#listeners]) listener(change);
  }

  registerContainerPlugin = (plugin: PluginsOf<HostTypes>["ContainerPlugin"]): Unregister =>
    this.register("ContainerPlugin", plugin);
  registerDaemonPlugin = (plugin: PluginsOf<HostTypes>["DaemonPlugin"]): Unregister => this.register("DaemonPlugin", plugin);
  registerVolumePlugin = (plugin: PluginsOf<HostTypes>["VolumePlugin"]): Unregister => this.register("VolumePlugin", plugin);
  registerCriPlugin = (plugin: PluginsOf<HostTypes>["CriPlugin"]): Unregister => this.register("CriPlugin", plugin);
  registerAPIPlugin = (plugin: PluginsOf<HostTypes>["APIPlugin"]): Unregister => this.register("APIPlugin", plugin);
  registerImagePlugin = (plugin: PluginsOf<HostTypes>["ImagePlugin"]): Unregister => this.register("ImagePlugin", plugin);
  registerCliPlugin = (plugin: PluginsOf<HostTypes>["CliPlugin"]): Unregister => this.register("CliPlugin", plugin);

  list(type?: PluginType): readonly RegisteredPlugin[] {
    return type ? this.#plugins.filter((p) => p.type === type) : [...this.#plugins];
  }

  subscribe(listener: (change: RegistryChange) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  clear(): void {
    this.unregisterAfter(0);
  }

  unregisterAfter(seq: number): void {
    for (const plugin of [...this.#plugins].reverse()) {
      if (plugin.seq <= seq) continue;
      this.#plugins.splice(this.#plugins.indexOf(plugin), 1);
      this.#changed({ kind: "unregistered", plugin });
    }
  }
}

/** Creates an isolated registry (for tests, or several hosts in one process). */
export function createRegistry<T extends HostTypes = DefaultHostTypes>(): PluginRegistry<T> {
  return new Registry() as unknown as PluginRegistry<T>;
}
