/**
 * A small host that runs the Python plugin in ./plugins as an OCM-style executable: the host reads its
 * capabilities, starts it on the first hook call, prints its log lines, and stops it on close().
 * Run it with `npx tsx examples/python-plugin/host.ts`.
 */
import { fileURLToPath } from "node:url";
import { createHost, createRegistry, PluginHookError } from "hookplugins";
import { loadExternalPlugins } from "hookplugins/external";

const registry = createRegistry();
const external = await loadExternalPlugins(registry, { executableDirs: [fileURLToPath(new URL("./plugins", import.meta.url))] });
const host = createHost({ registry, external });
host.events.on("pluginLog", (e) => console.log(`[${e.plugin} ${e.level ?? "log"}] ${e.line}`));
host.events.on("pluginProcess", (e) => console.log(`[${e.plugin}] process ${e.state}${e.reason ? ` (${e.reason})` : ""}`));

console.log("explain:", JSON.stringify(host.explain()["ContainerPlugin.preCreate"]));
const config = await host.container.preCreate({ Image: "busybox", Env: ["TEAM=storage"] });
console.log("labels:", JSON.stringify(config.Labels));
console.log("prestart hooks:", JSON.stringify(await host.container.preStart({ Id: "c1" } as never)));
try {
  await host.container.preCreate({ Image: "evil.example.org/miner" });
} catch (error) {
  console.log("refused:", (error as PluginHookError).message);
}
await host.close();
console.log("closed");
