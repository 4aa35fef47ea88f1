/**
 * `POST /containers/create` and `POST /volumes/create`: the JSON body through the create hook
 * (`ContainerPlugin.preCreate`; `VolumePlugin.preVolumeCreate`, for any driver), the plugins' version on to the engine
 * with a correct Content-Length, each applied change logged. A plugin's refusal answers the client; nothing reaches
 * the engine then.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AuditEntry, ContainerCreateConfig, VolumeCreateConfig } from "hookplugins";
import { describeChanges, runAttributed } from "../../changeReport.js";
import { jsonObject, readBody } from "../requestBody.js";
import { clientGone, describeRequest, type RouteContext } from "./context.js";

type CreateHook = (config: Record<string, unknown>, options: { audit: AuditEntry[]; signal: AbortSignal }) => Promise<unknown>;

/** A handler that runs `hook` on the JSON body of `what` and sends the result on. */
function createHookRoute(ctx: RouteContext, what: string, hook: CreateHook): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const signal = clientGone(res);
    const config = jsonObject(await readBody(req, what), what);
    const { final, changes } = await runAttributed(config, (audit) => hook(config, { audit, signal }));
    // e.g. `hookplugins docker-proxy: POST /containers/create: changed /HostConfig/Memory by envlimits (0 -> 67108864)`
    for (const change of changes) ctx.log(`hookplugins docker-proxy: ${describeRequest(req)}: changed ${describeChanges([change])}`);
    await ctx.engine.forward(req, res, { body: JSON.stringify(final) });
  };
}

/** The handler of `POST /containers/create`. */
export function containerCreate(ctx: RouteContext): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return createHookRoute(ctx, "the container create request", (config, options) => ctx.host.container.preCreate(config as unknown as ContainerCreateConfig, options));
}

/** The handler of `POST /volumes/create`. */
export function volumeCreate(ctx: RouteContext): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return createHookRoute(ctx, "the volume create request", (config, options) => ctx.host.volume.preVolumeCreate(config as unknown as VolumeCreateConfig, options));
}
