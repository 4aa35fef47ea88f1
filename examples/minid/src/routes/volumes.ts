/**
 * The volume routes: create (through VolumePlugin.preVolumeCreate), inspect, list.
 */
import type { HandlerSpec, VolumeCreateConfig } from "hookplugins";
import type { DaemonContext } from "../context.js";
import { readJsonObject, sendJson } from "../http.js";

/** The volume routes. */
export function volumeRoutes(ctx: DaemonContext): HandlerSpec[] {
  return [
    {
      method: "POST",
      path: "/volumes/create",
      handler: async (req, res) => {
        const body = (await readJsonObject(req)) as VolumeCreateConfig;
        const config = await ctx.host.volume.preVolumeCreate(body);
        sendJson(res, 201, await ctx.volumes.create(config));
      },
    },
    { method: "GET", path: "/volumes", handler: (_req, res) => sendJson(res, 200, { Volumes: ctx.volumes.list(), Warnings: [] }) },
    {
      method: "GET",
      path: "/volumes/{name}",
      handler: (_req, res, params) => sendJson(res, 200, ctx.volumes.get(params.name ?? "")),
    },
  ];
}
