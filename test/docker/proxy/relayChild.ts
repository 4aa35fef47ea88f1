/**
 * A relay in a child process, so that memory tests measure the relay alone: `fork` it with tsx, pass the engine's
 * socket path and the socket to listen on, and ask it over IPC for its RSS ("reset" starts a measurement, "peak"
 * reports the highest RSS since, sampled every 10 ms) and its open connections; "close" stops it.
 */
import { createRelayServer } from "../../../src/docker/proxy/relay.js";

/** A message the test sends. */
export type RelayChildRequest = "reset" | "peak" | "close";

/** The child's answer to "peak". */
export interface RelayChildPeak {
  /** RSS at "reset", in bytes. */
  readonly base: number;
  /** Highest RSS since "reset", in bytes. */
  readonly peak: number;
  /** Client connections open now. */
  readonly connections: number;
}

const [upstreamPath, listenPath] = process.argv.slice(2);
if (!upstreamPath || !listenPath || !process.send) throw new Error("usage: fork(relayChild.ts, [upstreamPath, listenPath]) with IPC");
const send = process.send.bind(process);
const relay = createRelayServer({ upstream: { kind: "unix", path: upstreamPath } });
await relay.listen(listenPath);
let base = process.memoryUsage.rss();
let peak = base;
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage.rss());
}, 10);
process.on("message", (message: RelayChildRequest) => {
  if (message === "reset") {
    base = process.memoryUsage.rss();
    peak = base;
    send("reset");
  } else if (message === "peak") {
    const answer: RelayChildPeak = { base, peak: Math.max(peak, process.memoryUsage.rss()), connections: relay.relay.connectionCount };
    send(answer);
  } else if (message === "close") {
    clearInterval(sampler);
    void relay.close({ graceMs: 1_000 }).then(() => process.exit(0));
  }
});
send("ready");
