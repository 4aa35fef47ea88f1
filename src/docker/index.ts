/**
 * Docker Engine integration: the bridge that serves a host's plugins as Docker's authorization plugin and volume driver.
 */
export { createDockerBridge, DockerBridgeError, dockerPluginSocketDir } from "./bridge.js";
export type { DockerBridge, DockerBridgeOptions } from "./bridge.js";
export type { AuthzReply, AuthzRequest, AuthzStats, OnChange } from "./authz.js";
export { VolumeStore, VolumeStoreError } from "./volumeStore.js";
export type { VolumeInfo, VolumeRecord } from "./volumeStore.js";
