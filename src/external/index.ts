/**
 * hookplugins/external: plugins in their own process. Serve a plugin object over Docker's v1 plugin protocol
 * (serve), load plugins served by other processes into a registry (loadExternalPlugins), and the generic
 * Docker v1 plugin server and client underneath.
 */
export { serve, hookPluginHandlers, ServeError } from "./serve.js";
export type { HookPluginServer, ServablePlugins, ServeOptions } from "./serve.js";
export { loadExternalPlugins, ExternalPluginLoadError } from "./externalPlugins.js";
export type { ExternalEventEmitter, ExternalPluginInfo, ExternalPluginOptions, ExternalPlugins } from "./externalPlugins.js";
export { discoverPlugins, describeSources, pluginNameOfFile, readSpecFile } from "./discovery.js";
export type { Discovery, DiscoveryProblem, ExternalSources, FoundPlugin } from "./discovery.js";
export { ExecutablePluginError, readExecutableCapabilities } from "./executablePlugin.js";
export type { ExecutableOptions } from "./executablePlugin.js";
export { PluginUnhealthyError } from "./health.js";
export type { HealthOptions } from "./health.js";
export { CapabilitiesError, checkCapabilities } from "./capabilities.js";
export type { PluginHealthEvent, PluginLogEvent, PluginProcessEvent, ExternalPluginEvents } from "hookplugins";
export {
  defaultMaxMessageBytes,
  hookOfWireCall,
  pluginMediaType,
  protocolVersions,
  replyMediaType,
  runCommandCall,
  wireCallOf,
  wireMethodOf,
} from "./protocol.js";
export type {
  ActivateReply,
  ApiRoute,
  Capabilities,
  CapabilitiesRequest,
  CapabilityEntry,
  ErrorReply,
  RunCommandReply,
  RunCommandRequest,
  ServeReply,
  ServeRequest,
  WireCommand,
  WireCommandArgument,
  WireCommandOption,
  WireExit,
  WireImage,
} from "./protocol.js";
export { createV1RequestListener, listenV1Plugin, V1PluginError } from "./v1Server.js";
export { TlsOptionsError } from "./tlsServerOptions.js";
export type { PluginTlsServerOptions } from "./tlsServerOptions.js";
export type { V1Handler, V1ListenOptions, V1PluginServer, V1Request, V1ServerOptions, V1StreamHandler } from "./v1Server.js";
export { formatPluginAddress, parsePluginAddress, V1CallError, V1Client } from "./v1Client.js";
export { socketAccepts } from "./socketAccepts.js";
export { dockerNamePattern, dockerNameRule, isDockerName } from "./dockerName.js";
export { listenOnSocket, removeStaleSocket, SocketFileError } from "./unixSocket.js";
export type { SocketFileOptions } from "./unixSocket.js";
export type { PluginAddress, PluginTlsOptions, V1CallErrorKind, V1ClientOptions } from "./v1Client.js";
export { runExecutablePlugin } from "./executableMain.js";
export { exitWhenHostGone, hostPipeOnStdin, hostPipeVariable, startedUnderHostPipe, watchHostPipe } from "./hostPipe.js";
export type { StalePluginReport } from "./staleProcesses.js";
export { externalSourcesOfProject, mergeExternalSources } from "./projectSources.js";
