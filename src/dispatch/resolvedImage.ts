/**
 * ImagePlugin.resolveImage results: undefined is "not mine"; anything else must be a ResolvedImage.
 */
import type { ResolvedImage } from "../plugins/interfaces.js";

/** The config fields an answer may set, and their JSON kind (a list made once: the check runs on every answer). */
const configKeys = Object.entries({ Env: "array", Cmd: "array", Entrypoint: "array", WorkingDir: "string", User: "string", Labels: "object" } as const);

/** Checks an image driver's answer for `ref`; throws a TypeError saying what a valid answer is. A missing `ref` is `ref`. */
export function checkResolvedImage(result: unknown, ref: string): ResolvedImage {
  const bad = (problem: string): never => {
    throw new TypeError(
      `${problem}; return { rootfs: "/absolute/path/of/the/root/filesystem", config: { Env, Cmd, Entrypoint, WorkingDir, User, Labels } } for an image this plugin supplies, or undefined when "${ref}" is not this plugin's`,
    );
  };
  if (typeof result !== "object" || result === null || Array.isArray(result)) return bad(`returned ${result === null ? "null" : Array.isArray(result) ? "an array" : typeof result}`);
  const image = result as Partial<ResolvedImage>;
  if (typeof image.rootfs !== "string" || image.rootfs === "") bad(`returned an image whose rootfs is ${JSON.stringify(image.rootfs) ?? "undefined"}, not a path`);
  const config = image.config as Record<string, unknown> | undefined;
  if (typeof config !== "object" || config === null || Array.isArray(config)) return bad(`returned an image whose config is ${config === null ? "null" : typeof config}, not an object`);
  for (const [key, kind] of configKeys) {
    const value = config[key];
    if (value === undefined) continue;
    const ok = kind === "array" ? Array.isArray(value) && value.every((v) => typeof v === "string") : kind === "string" ? typeof value === "string" : typeof value === "object" && value !== null && !Array.isArray(value);
    if (!ok) bad(`returned an image whose config.${key} is ${JSON.stringify(value)}, not ${kind === "array" ? "an array of strings" : `a ${kind}`}`);
  }
  if (image.ref !== undefined && typeof image.ref !== "string") bad(`returned an image whose ref is ${JSON.stringify(image.ref)}, not a string`);
  if (image.digest !== undefined && typeof image.digest !== "string") bad(`returned an image whose digest is ${JSON.stringify(image.digest)}, not a string`);
  return image.ref === undefined ? { ...(image as ResolvedImage), ref } : (image as ResolvedImage);
}
