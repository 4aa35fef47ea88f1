/**
 * A tiny host: runs ContainerPlugin.preCreate on a sample config and prints what the plugins did.
 * Plugins disabled with `hookplugins plugin disable <name>` are skipped at the next start, without a rebuild.
 */
import { includedPlugins } from "hookplugins:plugins";
import { createHost } from "hookplugins";

const stateFile = process.env["HOOKPLUGINS_STATE_FILE"] ?? ".hookplugins/state.json";
// A missing state file enables every plugin; a corrupt or unreadable one makes createHost throw PluginStateError.
const host = createHost({ stateFile });
const config = await host.container.preCreate({ Image: "busybox", Env: [] });
console.log(
  JSON.stringify({ includedPlugins, env: config.Env ?? [], preCreate: host.explain()["ContainerPlugin.preCreate"] }),
);
host.close();
