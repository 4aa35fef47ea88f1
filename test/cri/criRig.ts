/**
 * What most CRI tests start with: a containerd with its CRI plugin, a relay in front of it (envlimits, and policy
 * under `rules`), and a client on each socket. `stop()` closes the clients, the relay and containerd.
 */
import type { PolicyRules } from "../../hookplugins/policy/index.js";
import { startContainerd, type Containerd } from "../support/engines/containerd.js";
import { criClient, type CriClient } from "./criClient.js";
import { startRelay, type RelayFixture } from "./relayFixture.js";

/** A containerd, a relay in front of it, and a client of each. */
export interface CriRig {
  /** The containerd. */
  readonly containerd: Containerd;
  /** The relay in front of it. */
  readonly relay: RelayFixture;
  /** A client of the relay's socket. */
  readonly viaRelay: CriClient;
  /** A client of containerd's own socket. */
  readonly direct: CriClient;
  /** Closes the clients, then the relay, then containerd. */
  stop(): Promise<void>;
}

/** Starts containerd (CRI), a relay with envlimits and policy under `rules`, and a client of each. */
export async function startCriRig(rules: PolicyRules = {}): Promise<CriRig> {
  const containerd = await startContainerd({ cri: true });
  let relay: RelayFixture;
  try {
    relay = await startRelay(containerd.socketPath, rules);
  } catch (error) {
    await containerd.stop();
    throw error;
  }
  const viaRelay = criClient(relay.socketPath);
  const direct = criClient(containerd.socketPath);
  return {
    containerd,
    relay,
    viaRelay,
    direct,
    async stop() {
      viaRelay.close();
      direct.close();
      await relay.stop();
      await containerd.stop();
    },
  };
}
