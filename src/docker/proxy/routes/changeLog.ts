/**
 * The proxy's record of what the plugins changed: one line per changed field, with its JSON pointer, the plugins
 * that changed it, and the values before and after.
 */
import type { IncomingMessage } from "node:http";
import { describeChanges, type AttributedChange } from "../../changeReport.js";
import { describeRequest, type RouteContext } from "./context.js";

/** Logs each change the plugins made to `req`'s body: `hookplugins docker-proxy: POST /containers/create: /HostConfig/Memory by envlimits (0 -> 67108864)`. */
export function logChanges(ctx: RouteContext, req: IncomingMessage, changes: readonly AttributedChange[]): void {
  for (const change of changes) ctx.log(`hookplugins docker-proxy: ${describeRequest(req)}: changed ${describeChanges([change])}`);
}
