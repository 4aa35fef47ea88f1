/**
 * Plugin state: the persisted enable/disable switches hosts honor at start.
 */
export {
  disabledFromStateFile,
  formatPluginState,
  parsePluginState,
  PluginStateError,
  readPluginState,
  readPluginStateSync,
  setPluginsEnabled,
  updatePluginState,
  writePluginState,
  type PluginState,
} from "./pluginState.js";
export { withLock, LockTimeoutError, type LockOptions } from "./lockFile.js";
export { writeFileAtomic } from "./atomicWrite.js";
