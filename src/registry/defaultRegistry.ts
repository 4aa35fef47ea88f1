/**
 * The process-wide default registry and the top-level register* functions that write into it,
 * so that importing a plugin module is enough to register its plugins.
 */
import type { DefaultHostTypes, HostTypes, PluginsOf } from "../plugins/interfaces.js";
import { createRegistry, type PluginRegistry, type Unregister } from "./registry.js";

const key = Symbol.for("hookplugins.defaultRegistry");
const holder = globalThis as { [key]?: PluginRegistry };

/** The registry that register*Plugin functions and createHost() use by default; one per process, even across copies of this library. */
export const defaultRegistry: PluginRegistry = (holder[key] ??= createRegistry());

/** Registers a ContainerPlugin in the default registry; returns a function that unregisters it. */
export function registerContainerPlugin<T extends HostTypes = DefaultHostTypes>(plugin: PluginsOf<T>["ContainerPlugin"]): Unregister {
  return (defaultRegistry as unknown as PluginRegistry<T>).registerContainerPlugin(plugin);
}
/** Registers a DaemonPlugin in the default registry; returns a function that unregisters it. */
export function registerDaemonPlugin(plugin: PluginsOf<HostTypes>["DaemonPlugin"]): Unregister {
  return defaultRegistry.registerDaemonPlugin(plugin);
}
/** Registers a VolumePlugin in the default registry; returns a function that unregisters it. */
export function registerVolumePlugin<T extends HostTypes = DefaultHostTypes>(plugin: PluginsOf<T>["VolumePlugin"]): Unregister {
  return (defaultRegistry as unknown as PluginRegistry<T>).registerVolumePlugin(plugin);
}
/** Registers a CriPlugin in the default registry; returns a function that unregisters it. */
export function registerCriPlugin<T extends HostTypes = DefaultHostTypes>(plugin: PluginsOf<T>["CriPlugin"]): Unregister {
  return (defaultRegistry as unknown as PluginRegistry<T>).registerCriPlugin(plugin);
}
/** Registers an APIPlugin in the default registry; returns a function that unregisters it. */
export function registerAPIPlugin<T extends HostTypes = DefaultHostTypes>(plugin: PluginsOf<T>["APIPlugin"]): Unregister {
  return (defaultRegistry as unknown as PluginRegistry<T>).registerAPIPlugin(plugin);
}
/** Registers an ImagePlugin in the default registry; returns a function that unregisters it. */
export function registerImagePlugin<T extends HostTypes = DefaultHostTypes>(plugin: PluginsOf<T>["ImagePlugin"]): Unregister {
  return (defaultRegistry as unknown as PluginRegistry<T>).registerImagePlugin(plugin);
}
/** Registers a CliPlugin in the default registry; returns a function that unregisters it. */
export function registerCliPlugin(plugin: PluginsOf<HostTypes>["CliPlugin"]): Unregister {
  return defaultRegistry.registerCliPlugin(plugin);
}
