/**
 * `DELETE /containers/{id}`: passes on to the engine; once it removed the container, its prestart hand-off (if one
 * was left) goes too.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { removeHandoff } from "hookplugins/runtime";
import { inspectContainer, versionPrefix, type RouteContext } from "./context.js";

/** The handler of `DELETE /containers/{id}`. */
export function containerDelete(ctx: RouteContext): (req: IncomingMessage, res: ServerResponse, params: Record<string, string>) => Promise<void> {
  return async (req, res, params) => {
    const inspected = await inspectContainer(ctx.engine, params["id"] ?? "", versionPrefix(req));
    const id = inspected.body?.Id;
    await ctx.engine.forward(req, res, {
      beforeEnd: async (status) => {
        if (status >= 200 && status < 300 && typeof id === "string") await removeHandoff(ctx.handoffDir, id);
        return undefined;
      },
    });
  };
}
