/**
 * `POST /containers/{id}/update`: the raw body through the `ContainerPlugin.preUpdate` stream chain, then on to the
 * engine. After the engine applied it (2xx): `ContainerPlugin.postUpdate(rootfs, env)` with the container's root
 * filesystem on the host and its environment, before the client gets the engine's answer.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ContainerJSON } from "hookplugins";
import { ProxyHttpError } from "../httpErrors.js";
import { answerHead, clientGone, sendOn } from "../forward.js";
import { readBody } from "../requestBody.js";
import { versionPrefix, type RouteContext } from "./context.js";

/** The container's root filesystem as the host sees it: the storage driver's merged dir, else its process's root. */
export function rootfsOf(container: ContainerJSON): string {
  const graph = container.GraphDriver as { Data?: Record<string, string> | null } | undefined;
  const merged = graph?.Data?.["MergedDir"];
  if (typeof merged === "string" && merged !== "") return merged;
  const pid = (container.State as { Pid?: number } | undefined)?.Pid;
  return typeof pid === "number" && pid > 0 ? `/proc/${pid}/root` : "";
}

/** The handler of `POST /containers/{id}/update`. */
export function containerUpdate(ctx: RouteContext): (req: IncomingMessage, res: ServerResponse, params: Record<string, string>) => Promise<void> {
  return async (req, res, params) => {
    const signal = clientGone(res);
    const transformed = await ctx.host.container.preUpdate(req, { signal });
    const body = await readBody(transformed, "the container update request (after the preUpdate plugins)");
    const answer = await sendOn(ctx.engine, req, body, signal);
    const status = answer.statusCode ?? 0;
    const reply = await readBody(answer, "the engine's answer to the update");
    if (status >= 200 && status < 300) {
      const inspected = await ctx.engine.json<ContainerJSON>("GET", `${versionPrefix(req)}/containers/${encodeURIComponent(params["id"] ?? "")}/json`);
      const container = inspected.body;
      if (container === undefined) throw new ProxyHttpError(502, `the engine applied the update, but then could not inspect container ${params["id"]} (status ${inspected.status}); postUpdate did not run`);
      const env = ((container.Config as { Env?: string[] | null } | undefined)?.Env ?? []).slice();
      try {
        await ctx.host.container.postUpdate(rootfsOf(container), env, { signal });
      } catch (error) {
        throw Object.assign(new Error(`the engine applied the update, but ${(error as Error).message}`, { cause: error }), { status: 500 });
      }
    }
    answerHead(answer, res);
    res.end(reply);
  };
}
