/**
 * A relay for tests: a host over a private registry holding envlimits, policy (rules given here) and any extra
 * plugins, and createCriProxy on a socket in a private folder in front of `upstream`. `stop()` closes the relay and
 * removes the folder.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHost, createRegistry, type Host, type PluginRegistry } from "hookplugins";
import { createCriProxy, type CriProxy, type CriProxyOptions } from "hookplugins/cri";
import { envLimitsPlugin } from "../../hookplugins/envlimits/index.js";
import { createPolicyPlugins, type PolicyRules } from "../../hookplugins/policy/index.js";

/** A running relay with its host and registry. */
export interface RelayFixture {
  /** The relay. */
  readonly proxy: CriProxy;
  /** Its socket path. */
  readonly socketPath: string;
  /** The registry its host dispatches to (register more plugins here). */
  readonly registry: PluginRegistry;
  /** The host. */
  readonly host: Host;
  /** Lines the relay logged. */
  readonly logged: string[];
  /** Closes the relay and removes its folder. */
  stop(): Promise<void>;
}

/**
 * Starts a relay in front of the socket at `upstream`, with envlimits and policy under `rules`; on a socket in a new
 * private folder, or on `options.listen` (e.g. where a relay stopped before listened).
 */
export async function startRelay(upstream: string, rules: PolicyRules = {}, options: Partial<CriProxyOptions> = {}): Promise<RelayFixture> {
  const dir = await mkdtemp(join(tmpdir(), "hpcri-"));
  const registry = createRegistry();
  registry.registerContainerPlugin(envLimitsPlugin);
  registry.registerContainerPlugin(createPolicyPlugins(rules).container);
  const host = createHost({ registry });
  const logged: string[] = [];
  const socketPath = options.listen?.replace(/^unix:\/\//, "") ?? join(dir, "cri.sock");
  const proxy = await createCriProxy({ host, upstream: `unix://${upstream}`, log: (line) => logged.push(line), ...options, listen: socketPath });
  return {
    proxy,
    socketPath,
    registry,
    host,
    logged,
    async stop() {
      await proxy.close({ graceMs: 1_000 });
      await host.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
