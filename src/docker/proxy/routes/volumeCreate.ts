/**
 * `POST /volumes/create`: the body through `VolumePlugin.preVolumeCreate`, for any driver, and the plugins' version on
 * to the engine; each applied change logged.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AuditEntry, VolumeCreateConfig } from "hookplugins";
import { attributeChanges } from "../../changeReport.js";
import { jsonObject, readBody } from "../requestBody.js";
import { logChanges } from "./changeLog.js";
import { clientGone, type RouteContext } from "./context.js";

/** The handler of `POST /volumes/create`. */
export function volumeCreate(ctx: RouteContext): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const signal = clientGone(res);
    const body = await readBody(req, "the volume create request");
    const config = jsonObject(body, "the volume create request") as unknown as VolumeCreateConfig;
    const original: unknown = JSON.parse(body.length ? body.toString("utf8") : "{}");
    const audit: AuditEntry[] = [];
    const final = await ctx.host.volume.preVolumeCreate(config, { audit, signal });
    logChanges(ctx, req, attributeChanges(original, final, audit));
    await ctx.engine.forward(req, res, { body: JSON.stringify(final) });
  };
}
