/**
 * The image a new container is made from: first the image drivers (ImagePlugin.resolveImage, in priority order; the
 * first answer wins), then minid's own image store; and how the image's config fills the container's config.
 */
import { createHash } from "node:crypto";
import type { ContainerCreateConfig } from "hookplugins";
import type { DaemonContext } from "./context.js";
import { type ImageRunConfig } from "hookplugins";
import { notFound } from "./httpErrors.js";

/** An image as container creation uses it. */
export interface ContainerImage {
  /** "sha256:..." (a driver's digest, or one made from its reference). */
  id: string;
  /** Root filesystem folder, copied into the bundle. */
  rootfs: string;
  /** The image's config. */
  config: ImageRunConfig;
  /** The image driver that supplied it; undefined for minid's store. */
  plugin?: string;
}

/** Finds `ref`: an image driver's answer, else the store's image; 404 when neither has it. A driver's error rejects. */
export async function findImage(ctx: DaemonContext, ref: string): Promise<ContainerImage> {
  const resolution = await ctx.host.image.resolveImage(ref);
  if (resolution) {
    const { image, plugin } = resolution;
    const id = image.digest ?? `sha256:${createHash("sha256").update(`${plugin}\0${ref}`).digest("hex")}`;
    return { id, rootfs: image.rootfs, config: image.config, plugin };
  }
  const stored = ctx.images.resolve(ref);
  if (!stored) throw notFound(`No such image: ${ref}`);
  return { id: stored.id, rootfs: stored.rootfs, config: { Cmd: stored.cmd } };
}

function envKey(entry: string): string {
  const eq = entry.indexOf("=");
  return eq === -1 ? entry : entry.slice(0, eq);
}

/**
 * `config` with the image's defaults filled in, as the Engine does: Env (the container's entries win), Entrypoint,
 * Cmd (the image's only when the container names neither Cmd nor Entrypoint), WorkingDir, User and Labels.
 */
export function withImageConfig(config: ContainerCreateConfig, image: ImageRunConfig): ContainerCreateConfig {
  const own = config.Env ?? [];
  const keys = new Set(own.map(envKey));
  const env = [...(image.Env ?? []).filter((e) => !keys.has(envKey(e))), ...own];
  const ownCmd = config.Cmd && config.Cmd.length > 0 ? config.Cmd : undefined;
  const entrypoint = config.Entrypoint && config.Entrypoint.length > 0 ? config.Entrypoint : image.Entrypoint;
  const cmd = ownCmd ?? (config.Entrypoint && config.Entrypoint.length > 0 ? [] : image.Cmd);
  return {
    ...config,
    ...(env.length > 0 ? { Env: env } : {}),
    ...(entrypoint && entrypoint.length > 0 ? { Entrypoint: entrypoint } : {}),
    ...(cmd ? { Cmd: cmd } : {}),
    ...(!config.WorkingDir && image.WorkingDir ? { WorkingDir: image.WorkingDir } : {}),
    ...(!config.User && image.User ? { User: image.User } : {}),
    ...(image.Labels ? { Labels: { ...image.Labels, ...config.Labels } } : {}),
  };
}
