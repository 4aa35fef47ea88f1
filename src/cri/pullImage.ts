/**
 * PullImage: after the runtime reports success, ImagePlugin.postPull runs with the CRI plugin's snapshotter (from the
 * runtime's verbose Status) and the image as the runtime's ImageStatus reports it. A failing plugin turns the reply
 * into an error status (the image stays stored; the kubelet shows the message and pulls again later).
 */
import type { CriHostTypes, CriImage, CriPulledImage, Host, HostTypes } from "hookplugins";
import { criSchema } from "./criSchema.generated.js";
import { decodeMessage, encodeMessage } from "./protoCodec.js";
import type { InterceptedCall, Interceptor } from "./relayServer.js";
import type { CriUpstream } from "./upstream.js";

/** The snapshotter containerd's CRI plugin uses when its config does not say. */
export const defaultCriSnapshotter = "overlayfs";

/** The image postPull receives: CRI's Image with the Docker-style ImageInfo fields it maps to. */
export function pulledImageOf(image: CriImage): CriPulledImage {
  return { ...image, Id: image.id ?? "", RepoTags: [...(image.repo_tags ?? [])], RepoDigests: [...(image.repo_digests ?? [])], Size: Number(image.size ?? 0) };
}

/** The snapshotter named in a verbose Status reply's `info.config` (containerd's CRI config as JSON), if any. */
export function snapshotterOfStatusInfo(info: Record<string, string> | undefined): string | undefined {
  try {
    const config = JSON.parse(info?.["config"] ?? "null") as { containerd?: { snapshotter?: unknown } } | null;
    const name = config?.containerd?.snapshotter;
    return typeof name === "string" && name !== "" ? name : undefined;
  } catch {
    return undefined;
  }
}

/** The PullImage interceptor; `snapshotter` fixes the name instead of asking the runtime. */
export function pullImageInterceptor(host: Host<HostTypes>, upstream: CriUpstream, snapshotter?: string): Interceptor {
  const criHost = host as unknown as Host<CriHostTypes>;
  // the runtime's snapshotter, asked once per connection (a new connection may be a restarted runtime)
  let known: { connection: number; snapshotter: Promise<string> } | undefined;
  const snapshotterFor = (call: InterceptedCall): Promise<string> => {
    if (snapshotter !== undefined) return Promise.resolve(snapshotter);
    if (known?.connection === upstream.connections) return known.snapshotter;
    const runtimePrefix = call.servicePrefix.replace(/ImageService\/$/, "RuntimeService/");
    const asked = upstream
      .unary(`${runtimePrefix}Status`, encodeMessage(criSchema, "StatusRequest", { verbose: true }), { timeoutMs: 10_000 })
      .then((reply) => snapshotterOfStatusInfo(decodeMessage(criSchema, "StatusResponse", reply)["info"] as Record<string, string>) ?? defaultCriSnapshotter)
      .catch(() => {
        if (known?.snapshotter === asked) known = undefined; // ask again next time
        return defaultCriSnapshotter;
      });
    known = { connection: upstream.connections, snapshotter: asked };
    return asked;
  };
  return {
    async reply(_request, reply, call) {
      if (!host.explain()["ImagePlugin.postPull"].some((p) => p.enabled)) return;
      const ref = (decodeMessage(criSchema, "PullImageResponse", reply)["image_ref"] as string | undefined) ?? "";
      const left = call.timeLeft();
      const status = await upstream.unary(`${call.servicePrefix}ImageStatus`, encodeMessage(criSchema, "ImageStatusRequest", { image: { image: ref } }), {
        signal: call.signal,
        ...(left !== undefined && { timeoutMs: left }),
      });
      const image = decodeMessage(criSchema, "ImageStatusResponse", status)["image"] as CriImage | undefined;
      if (!image) throw new Error(`the runtime pulled ${ref} but its ImageStatus does not know it; ImagePlugin.postPull did not run`);
      await criHost.image.postPull(await snapshotterFor(call), pulledImageOf(image), { signal: call.signal });
    },
  };
}
