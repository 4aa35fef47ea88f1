/**
 * hookplugins/docker: a host's plugins on Docker Engine and Podman. The API proxy in front of the engine's socket
 * (every hook point it reaches), and the bridge that serves the plugins as the engine's authorization plugin and
 * volume driver. It imports the library as "hookplugins" (and its other subpaths), so it holds only its own code.
 */
export { createDockerProxy, DockerProxyError } from "./proxy/dockerProxy.js";
export type { DockerProxy, DockerProxyOptions, ProxyTls } from "./proxy/dockerProxy.js";
export { catchAllPath } from "./proxy/routes/routeTable.js";
export { parseUpstreamAddress, formatUpstreamAddress, UpstreamAddressError } from "./proxy/upstreamAddress.js";
export type { UpstreamAddress } from "./proxy/routeTypes.js";
export type { UpstreamTls } from "./proxy/upstreamAddress.js";
export { createDockerBridge, DockerBridgeError, dockerPluginSocketDir } from "./bridge.js";
export type { DockerBridge, DockerBridgeOptions } from "./bridge.js";
export type { AuthzReply, AuthzRequest, AuthzStats, OnChange } from "./authz.js";
export { VolumeStore, VolumeStoreError } from "./volumeStore.js";
export type { VolumeInfo, VolumeRecord } from "./volumeStore.js";
