/**
 * `POST /containers/{id}/update`: the raw body through the `ContainerPlugin.preUpdate` stream chain, then on to the
 * engine. After the engine applied it (2xx): `ContainerPlugin.postUpdate(rootfs, env)` with the container's root
 * filesystem on the host and its environment, before the client gets the engine's answer.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ContainerJSON } from "hookplugins";
import { ProxyHttpError } from "../errorResponse.js";
import { readBody } from "../requestBody.js";
import { endToEnd } from "../upstreamClient.js";
import { clientGone, inspectContainer, versionPrefix, type RouteContext } from "./context.js";

/** The container's root filesystem as the host sees it: the storage driver's merged dir, else its process's root. */
export function rootfsOf(container: ContainerJSON): string {
  const graph = container.GraphDriver as { Data?: Record<string, string> | null } | undefined;
  const merged = graph?.Data?.["MergedDir"];
  if (typeof merged === "string" && merged !== "") return merged;
  const pid = (container.State as { Pid?: number } | undefined)?.Pid;
  return typeof pid === "number" && pid > 0 ? `/proc/${pid}/root` : "";
}

/** The engine's answer goes to the client whole: its own framing fields are replaced by a Content-Length. */
const framing = new Set(["content-length"]);

/** The handler of `POST /containers/{id}/update`. */
export function containerUpdate(ctx: RouteContext): (req: IncomingMessage, res: ServerResponse, params: Record<string, string>) => Promise<void> {
  return async (req, res, params) => {
    const signal = clientGone(res);
    const transformed = await ctx.host.container.preUpdate(req, { signal });
    const body = await readBody(transformed, "the container update request (after the preUpdate plugins)");
    const contentType = req.headers["content-type"];
    const answer = await ctx.engine.request(req.method ?? "POST", req.url ?? "/", { body, signal, ...(contentType && { headers: { "Content-Type": contentType } }) });
    if (answer.status >= 200 && answer.status < 300) {
      const { body: container, status } = await inspectContainer(ctx.engine, params["id"] ?? "", versionPrefix(req));
      if (container === undefined) throw new ProxyHttpError(502, `the engine applied the update, but then could not inspect container ${params["id"]} (status ${status}); postUpdate did not run`);
      const env = ((container.Config as { Env?: string[] | null } | undefined)?.Env ?? []).slice();
      try {
        await ctx.host.container.postUpdate(rootfsOf(container), env, { signal });
      } catch (error) {
        throw new ProxyHttpError(500, `the engine applied the update, but ${(error as Error).message}`, { cause: error });
      }
    }
    res.writeHead(answer.status, answer.statusMessage, [...endToEnd(answer.rawHeaders, framing).flat(), "Content-Length", String(answer.body.length)]);
    res.end(answer.body);
  };
}
