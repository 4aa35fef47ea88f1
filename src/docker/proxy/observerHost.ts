/**
 * The observer hook points the proxy calls (`ContainerPlugin.postStart`, `ContainerPlugin.onExit`), typed here by
 * their shape until the host's own types carry them, and `observe`, which runs one and writes each plugin's failure
 * as a log line: an observer never changes what the engine did or what the client was answered.
 */
import type { CallOptions, ContainerJSON, Host } from "hookplugins";
import { errorMessage } from "./errorResponse.js";

/** How a container's main process ended (the shape of `ContainerExit` in "hookplugins"). */
export interface ProxyContainerExit {
  /** Exit status; 128+n when killed by signal n (as Docker reports it). */
  readonly code: number;
  /** The signal that killed it ("SIGKILL", ...), or undefined when it exited by itself. */
  readonly signal: NodeJS.Signals | undefined;
  /** Whether the kernel's OOM killer ended it. */
  readonly oomKilled: boolean;
  /** When it ended, RFC 3339. */
  readonly finishedAt: string;
}

/** What an observer hook point's run ended with: the plugins that failed (each also reported as a hookError event). */
interface ObserverOutcomeShape {
  readonly failures: readonly Error[];
}

/** host.container's observer methods, as the proxy calls them (optional: a host without them is left alone). */
interface ObserverMethods {
  postStart?(container: ContainerJSON, options?: CallOptions): Promise<ObserverOutcomeShape>;
  onExit?(container: ContainerJSON, exit: ProxyContainerExit, options?: CallOptions): Promise<ObserverOutcomeShape>;
}

/** The observer hook point a call runs. */
export type ObserverCall = { readonly hook: "postStart" } | { readonly hook: "onExit"; readonly exit: ProxyContainerExit };

/**
 * Runs `postStart` or `onExit` for `container` on `host`; resolves once every plugin ran, never rejects. Each failure
 * (resolved as the outcome's, or the AggregateError of a host whose observerFailures is "reject") becomes a log line.
 */
export async function observe(host: Host, container: ContainerJSON, call: ObserverCall, log: (line: string) => void): Promise<void> {
  const methods = host.container as unknown as ObserverMethods;
  const who = `container ${(container.Id ?? "").slice(0, 12)}`;
  try {
    const outcome = call.hook === "postStart" ? await methods.postStart?.(container) : await methods.onExit?.(container, call.exit);
    for (const failure of outcome?.failures ?? []) log(`hookplugins docker-proxy: ${who}: ${errorMessage(failure)}`);
  } catch (error) {
    const errors = error instanceof AggregateError ? error.errors : [error];
    for (const each of errors) log(`hookplugins docker-proxy: ${who}: ${errorMessage(each)}`);
  }
}
