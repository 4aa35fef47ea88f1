/**
 * `DELETE /containers/{id}`: passes on to the engine; once it removed the container, its prestart hand-off (if one
 * was left) goes too.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ContainerJSON } from "hookplugins";
import { removeHandoff } from "hookplugins/runtime";
import { answerWith, clientGone, sendOn } from "../forward.js";
import { versionPrefix, type RouteContext } from "./context.js";

/** The handler of `DELETE /containers/{id}`. */
export function containerDelete(ctx: RouteContext): (req: IncomingMessage, res: ServerResponse, params: Record<string, string>) => Promise<void> {
  return async (req, res, params) => {
    const signal = clientGone(res);
    const inspected = await ctx.engine.json<ContainerJSON>("GET", `${versionPrefix(req)}/containers/${encodeURIComponent(params["id"] ?? "")}/json`);
    const answer = await sendOn(ctx.engine, req, Buffer.alloc(0), signal);
    const status = answer.statusCode ?? 0;
    if (status >= 200 && status < 300 && typeof inspected.body?.Id === "string") await removeHandoff(ctx.handoffDir, inspected.body.Id);
    await answerWith(answer, res);
  };
}
