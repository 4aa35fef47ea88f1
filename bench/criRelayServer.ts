/**
 * The relay process of bench/criRelay.bench.ts: two relays (test/cri/relayFixture.ts) in front of the containerd
 * socket given as its argument, one with envlimits and policy (denyPrivileged), one with no plugins registered.
 * Prints `ready <plugins socket> <no-plugins socket>`, then serves until SIGTERM, SIGINT or its stdin closes (the bench
 * died), and closes both relays before it exits (so `node --cpu-prof` writes its profile).
 */
import { startRelay } from "../test/cri/relayFixture.js";

const upstream = process.argv[2]!;
const hooked = await startRelay(upstream, { denyPrivileged: true });
const plain = await startRelay(upstream);
plain.registry.clear();
process.stdout.write(`ready ${hooked.socketPath} ${plain.socketPath}\n`);

let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await Promise.all([hooked.stop(), plain.stop()]);
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
process.stdin.on("end", () => void stop()).resume();
