/**
 * `POST /containers/create`: the body through `ContainerPlugin.preCreate`, the plugins' version on to the engine
 * with a correct Content-Length, each applied change logged. A plugin's refusal answers the client; nothing reaches
 * the engine then.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AuditEntry, ContainerCreateConfig } from "hookplugins";
import { attributeChanges } from "../../changeReport.js";
import { jsonObject, readBody } from "../requestBody.js";
import { logChanges } from "./changeLog.js";
import { clientGone, type RouteContext } from "./context.js";

/** The handler of `POST /containers/create`. */
export function containerCreate(ctx: RouteContext): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const signal = clientGone(res);
    const body = await readBody(req, "the container create request");
    const config = jsonObject(body, "the container create request") as unknown as ContainerCreateConfig;
    const original: unknown = JSON.parse(body.length ? body.toString("utf8") : "{}");
    const audit: AuditEntry[] = [];
    const final = await ctx.host.container.preCreate(config, { audit, signal });
    logChanges(ctx, req, attributeChanges(original, final, audit));
    await ctx.engine.forward(req, res, { body: JSON.stringify(final) });
  };
}
