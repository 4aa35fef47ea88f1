/**
 * hookplugins: typed, priority-ordered hook plugins for container daemons and other long-running hosts.
 */
export type * from "./domain/index.js";
export type { HookContext } from "./plugins/context.js";
export type { PluginSource, PluginSourceKind } from "./plugins/source.js";
export { hookMethods, hookPoints, pluginTypes } from "./plugins/hookPoints.js";
export type { DispatchKind, HookMethod, HookName, HookPointInfo } from "./plugins/hookPoints.js";
export type {
  APIPlugin,
  CliArgumentSpec,
  CliCommandSpec,
  CliInvocation,
  CliOptionSpec,
  CliPlugin,
  ContainerExit,
  ContainerPlugin,
  CriConfigOf,
  CriHostTypes,
  CriPlugin,
  CriRelayPlugin,
  CustomHostTypes,
  DaemonPlugin,
  DefaultHostTypes,
  FailPolicy,
  HandlerFunction,
  HandlerSpec,
  HostTypes,
  ImagePlugin,
  ImageRunConfig,
  MaybePromise,
  PluginMeta,
  PluginsOf,
  PluginType,
  PrestartHook,
  ResolvedImage,
  VolumePlugin,
} from "./plugins/interfaces.js";
export { CliCommandConflictError, CliCommandLockedError, PluginAbortedError, PluginHookError, PluginRegistrationError, PluginTimeoutError } from "./errors.js";
export { createRegistry } from "./registry/registry.js";
export type { PluginRegistry, RegisteredPlugin, RegistryChange, Unregister } from "./registry/registry.js";
export {
  defaultRegistry,
  registerAPIPlugin,
  registerCliPlugin,
  registerContainerPlugin,
  registerCriPlugin,
  registerDaemonPlugin,
  registerImagePlugin,
  registerVolumePlugin,
} from "./registry/defaultRegistry.js";
export { createHost } from "./dispatch/host.js";
export type {
  CallOptions,
  ExplainEntry,
  Host,
  HostExplanation,
  HostExternalPlugins,
  HostOptions,
  ImageResolution,
  ObserverOutcome,
  PreStartOptions,
  WaterfallOptions,
} from "./dispatch/host.js";
export { diffLeaves } from "./audit/leafDiff.js";
export type { LeafChange } from "./audit/leafDiff.js";
export type { AuditEntry } from "./audit/auditedSpec.js";
export type { HookEndEvent, HookErrorEvent, HookStartEvent, HostEventEmitter, HostEvents } from "./dispatch/hostCore.js";
export { hookTracingChannel, hookTracingChannelName } from "./dispatch/tracing.js";
export type { HookTraceMessage } from "./dispatch/tracing.js";
export type { ExternalPluginEvents, PluginHealthEvent, PluginLogEvent, PluginProcessEvent } from "./plugins/externalEvents.js";
export { mergePrestartHooks } from "./dispatch/prestartHooks.js";
export { toOciHooks } from "./oci/toOciHooks.js";
export type { OciHook } from "./oci/toOciHooks.js";
export {
  disabledFromStateFile,
  PluginStateError,
  readPluginState,
  setPluginsEnabled,
  updatePluginState,
  writePluginState,
} from "./state/index.js";
export type { PluginState } from "./state/index.js";
export { listenForShutdown } from "./process/shutdownSignals.js";
export type { ShutdownOptions, ShutdownSignal, ShutdownSignals } from "./process/shutdownSignals.js";
export type { PluginManifest } from "./inclusion/pluginManifest.js";
export type { ProjectManifest } from "./inclusion/projectManifest.js";
