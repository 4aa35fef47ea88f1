/**
 * hookplugins/docker: the bridge that serves a host's plugins to Docker Engine as its authorization plugin and volume
 * driver, and the volume driver's state. It imports the library as "hookplugins" (and "hookplugins/external"), so the
 * subpath holds only the bridge's own code and types.
 */
export { createDockerBridge, DockerBridgeError, dockerPluginSocketDir } from "./bridge.js";
export type { DockerBridge, DockerBridgeOptions } from "./bridge.js";
export type { AuthzReply, AuthzRequest, AuthzStats, OnChange } from "./authz.js";
export { VolumeStore, VolumeStoreError } from "./volumeStore.js";
export type { VolumeInfo, VolumeRecord } from "./volumeStore.js";
