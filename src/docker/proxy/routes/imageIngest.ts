/**
 * `POST /images/create` (pull, or import with `fromSrc`) and `POST /images/load`: the request body (an archive) and
 * the engine's progress stream pass through as they come. When the engine reports success, `ImagePlugin.postPull`
 * runs once per image it produced, with the engine's storage driver as the snapshotter and the image's inspect; the
 * stream's end is held until then, and a plugin's failure is added to it as a Docker error message, which the CLI
 * prints and exits non-zero on.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ImageInfo } from "hookplugins";
import { errorMessage } from "../errorResponse.js";
import { clientGone, engineJson, queryOf, versionPrefix, type RouteContext } from "./context.js";
import { ProgressTap } from "./progressTap.js";

/**
 * The image a pull names: `fromImage` with `tag`, or `fromImage` itself when it holds a tag or digest; undefined for a
 * bare repository without `tag`, which dockerd pulls with all its tags (`docker pull -a`): see pulledImages.
 */
export function pulledImage(query: URLSearchParams): string | undefined {
  const from = query.get("fromImage");
  if (!from) return undefined;
  const tag = query.get("tag");
  if (tag) return tag.startsWith("sha256:") ? `${from}@${tag}` : `${from}:${tag}`;
  const last = from.slice(from.lastIndexOf("/") + 1);
  return last.includes(":") || from.includes("@") ? from : undefined;
}

/**
 * The images a pull stored: the one it names, or for a bare repository (all tags) each tag the stream said it pulled
 * ("Pulling from <repo>" with the tag as id); `<repo>:latest` when the stream named none (Podman pulls just that).
 */
function pulledImages(query: URLSearchParams, tap: ProgressTap): string[] {
  const named = pulledImage(query);
  if (named !== undefined) return [named];
  const from = query.get("fromImage");
  if (!from) return [];
  return tap.pulledTags.length > 0 ? tap.pulledTags.map((tag) => `${from}:${tag}`) : [`${from}:latest`];
}

/** The images an import produced: the repository it was given, else the image id the stream reported. */
function importedImage(query: URLSearchParams, tap: ProgressTap): string | undefined {
  const repo = query.get("repo");
  if (repo) return query.get("tag") ? `${repo}:${query.get("tag")}` : repo;
  return tap.lastStatus?.startsWith("sha256:") ? tap.lastStatus : undefined;
}

/** The handler of `POST /images/create` and `POST /images/load` (`kind` says which). */
export function imageIngest(ctx: RouteContext, kind: "create" | "load"): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const signal = clientGone(res);
    const tap = new ProgressTap();
    await ctx.engine.forward(req, res, {
      onChunk: (chunk) => tap.push(chunk),
      beforeEnd: async (status) => {
        tap.end();
        if (status < 200 || status >= 300 || tap.error !== undefined) return undefined;
        const query = queryOf(req);
        const images = kind === "load" ? tap.loaded : query.get("fromSrc") ? [importedImage(query, tap)].filter((x): x is string => x !== undefined) : pulledImages(query, tap);
        const failure = await notify(ctx, req, images, signal).catch(errorMessage);
        if (failure === undefined) return undefined;
        ctx.log(`hookplugins docker-proxy: ${failure}`);
        return Buffer.from(`${JSON.stringify({ errorDetail: { message: failure }, error: failure })}\r\n`);
      },
    });
  };
}

/** Runs postPull for each image; resolves with a failure message, or undefined. */
async function notify(ctx: RouteContext, req: IncomingMessage, images: readonly string[], signal: AbortSignal): Promise<string | undefined> {
  if (images.length === 0) return undefined;
  const prefix = versionPrefix(req);
  const info = await engineJson<{ Driver?: string }>(ctx.engine, `${prefix}/info`);
  const snapshotter = info.body?.Driver ?? "";
  for (const name of images) {
    const inspected = await engineJson<ImageInfo>(ctx.engine, `${prefix}/images/${name.split("/").map(encodeURIComponent).join("/")}/json`);
    if (inspected.status !== 200 || inspected.body === undefined) return `the engine reported ${name} as stored, but cannot inspect it (status ${inspected.status}); postPull did not run for it`;
    await ctx.host.image.postPull(snapshotter, inspected.body, { signal });
  }
  return undefined;
}
