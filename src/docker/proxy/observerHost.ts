/**
 * The observer hook points the proxy calls (`ContainerPlugin.postStart`, `ContainerPlugin.onExit`): `observe` runs one and writes each plugin's failure
 * as a log line: an observer never changes what the engine did or what the client was answered.
 */
import type { ContainerExit, ContainerJSON, Host } from "hookplugins";
import { errorMessage } from "./errorResponse.js";

/** The observer hook point a call runs. */
export type ObserverCall = { readonly hook: "postStart" } | { readonly hook: "onExit"; readonly exit: ContainerExit };

/**
 * Runs `postStart` or `onExit` for `container` on `host`; resolves once every plugin ran, never rejects. Each failure
 * (resolved as the outcome's, or the AggregateError of a host whose observerFailures is "reject") becomes a log line.
 */
export async function observe(host: Host, container: ContainerJSON, call: ObserverCall, log: (line: string) => void): Promise<void> {
  const who = `container ${(container.Id ?? "").slice(0, 12)}`;
  try {
    const outcome = call.hook === "postStart" ? await host.container.postStart(container) : await host.container.onExit(container, call.exit);
    for (const failure of outcome.failures) log(`hookplugins docker-proxy: ${who}: ${errorMessage(failure)}`);
  } catch (error) {
    const errors = error instanceof AggregateError ? error.errors : [error];
    for (const each of errors) log(`hookplugins docker-proxy: ${who}: ${errorMessage(each)}`);
  }
}
