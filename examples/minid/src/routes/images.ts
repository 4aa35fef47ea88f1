/**
 * The image routes: POST /images/create imports a root filesystem archive (`docker import`, fromSrc=-)
 * or "pulls" busybox from the host's busybox-static; both run ImagePlugin.postPull.
 */
import type { HandlerSpec, ImageInfo } from "hookplugins";
import type { DaemonContext } from "../context.js";
import { requestUrl, sendJson } from "../http.js";
import { badRequest, notFound } from "../httpErrors.js";
import { importRef, normalizeRef, type ImageRecord } from "../imageStore.js";

/** The ImageInfo plugins and clients see for a stored image. */
export function imageInfo(image: ImageRecord): ImageInfo {
  return {
    Id: image.id,
    RepoTags: image.repoTags,
    RepoDigests: [],
    CreatedAt: image.created,
    Size: image.size ?? 0,
    Architecture: process.arch === "x64" ? "amd64" : process.arch,
    Os: "linux",
    Config: { Image: image.id, Cmd: image.cmd },
    RootFS: { Type: "layers" },
  };
}

/** One entry of `GET /images/json`, in the Engine's list shape (what `docker images` reads). */
export function imageSummary(image: ImageRecord): Record<string, unknown> {
  const size = image.size ?? 0;
  return {
    Id: image.id,
    ParentId: "",
    RepoTags: image.repoTags,
    RepoDigests: [],
    Created: Math.floor(Date.parse(image.created) / 1000),
    Size: size,
    SharedSize: -1,
    VirtualSize: size,
    Labels: {},
    Containers: -1,
  };
}

/** The `GET /images/{name}/json` document (`docker image inspect`): ImageInfo plus the Engine's `Created`. */
export function imageInspect(image: ImageRecord): Record<string, unknown> {
  return { ...imageInfo(image), Created: image.created, Comment: image.comment };
}

/** The image routes. */
export function imageRoutes(ctx: DaemonContext): HandlerSpec[] {
  return [
    {
      method: "POST",
      path: "/images/create",
      handler: async (req, res) => {
        const url = requestUrl(req);
        const fromSrc = url.searchParams.get("fromSrc");
        const fromImage = url.searchParams.get("fromImage");
        let image: ImageRecord;
        if (fromSrc === "-") {
          image = await ctx.images.importArchive(req, importRef(url.searchParams.get("repo"), url.searchParams.get("tag")), url.searchParams.get("message") ?? "");
        } else if (fromSrc) {
          req.resume();
          throw badRequest("minid only imports archives sent in the request body (fromSrc=-)");
        } else if (fromImage) {
          req.resume();
          const ref = normalizeRef(importRef(fromImage, url.searchParams.get("tag")) ?? fromImage);
          const existing = ref === "busybox:latest" ? ctx.images.resolve(ref) : undefined;
          if (ref !== "busybox:latest" || (!ctx.busybox && !existing)) {
            throw notFound(`pull access denied for ${fromImage}: minid only provides busybox, from the host's busybox-static`);
          }
          image = ctx.busybox ? await ctx.images.buildBusybox(ctx.busybox, ref) : existing!;
        } else {
          req.resume();
          throw badRequest("either fromSrc or fromImage must be given");
        }
        await ctx.host.image.postPull(ctx.snapshotter, imageInfo(image));
        // docker import/pull read a stream of JSON progress messages.
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(`${JSON.stringify({ status: image.id })}\n`);
      },
    },
    { method: "GET", path: "/images/json", handler: (_req, res) => sendJson(res, 200, ctx.images.list().map(imageSummary)) },
    {
      method: "GET",
      path: "/images/{name}/json",
      handler: (_req, res, params) => {
        const image = ctx.images.resolve(params.name ?? "");
        if (!image) throw notFound(`No such image: ${params.name ?? ""}`);
        sendJson(res, 200, imageInspect(image));
      },
    },
  ];
}
