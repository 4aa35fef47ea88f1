/**
 * ImagePlugin.resolveImage results: undefined is "not mine"; anything else must be a ResolvedImage.
 */
import type { ResolvedImage } from "../plugins/interfaces.js";

/** Throws the TypeError of a bad answer for `ref`: `problem`, then what a valid answer is. */
function bad(problem: string, ref: string): never {
  throw new TypeError(
    `${problem}; return { rootfs: "/absolute/path/of/the/root/filesystem", config: { Env, Cmd, Entrypoint, WorkingDir, User, Labels } } for an image this plugin supplies, or undefined when "${ref}" is not this plugin's`,
  );
}

/** Whether `value` is an array of strings. */
function isStringList(value: unknown): boolean {
  if (!Array.isArray(value)) return false;
  for (const item of value) if (typeof item !== "string") return false;
  return true;
}

/** Checks the `value` of config field `key`, of kind "array" (of strings), "string" or "object"; `undefined` (not set) passes. */
function checkField(value: unknown, key: string, kind: "array" | "string" | "object", ref: string): void {
  if (value === undefined) return;
  const ok = kind === "array" ? isStringList(value) : kind === "string" ? typeof value === "string" : typeof value === "object" && value !== null && !Array.isArray(value);
  if (!ok) bad(`returned an image whose config.${key} is ${JSON.stringify(value)}, not ${kind === "array" ? "an array of strings" : `a ${kind}`}`, ref);
}

/** Checks an image driver's answer for `ref`; throws a TypeError saying what a valid answer is. A missing `ref` is `ref`. */
export function checkResolvedImage(result: unknown, ref: string): ResolvedImage {
  if (typeof result !== "object" || result === null || Array.isArray(result)) return bad(`returned ${result === null ? "null" : Array.isArray(result) ? "an array" : typeof result}`, ref);
  const image = result as Partial<ResolvedImage>;
  if (typeof image.rootfs !== "string" || image.rootfs === "") bad(`returned an image whose rootfs is ${JSON.stringify(image.rootfs) ?? "undefined"}, not a path`, ref);
  const config = image.config as Record<string, unknown> | undefined;
  if (typeof config !== "object" || config === null || Array.isArray(config)) return bad(`returned an image whose config is ${config === null ? "null" : typeof config}, not an object`, ref);
  // the fields an answer may set, each read by name (the check runs on every answer)
  checkField(config["Env"], "Env", "array", ref);
  checkField(config["Cmd"], "Cmd", "array", ref);
  checkField(config["Entrypoint"], "Entrypoint", "array", ref);
  checkField(config["WorkingDir"], "WorkingDir", "string", ref);
  checkField(config["User"], "User", "string", ref);
  checkField(config["Labels"], "Labels", "object", ref);
  if (image.ref !== undefined && typeof image.ref !== "string") bad(`returned an image whose ref is ${JSON.stringify(image.ref)}, not a string`, ref);
  if (image.digest !== undefined && typeof image.digest !== "string") bad(`returned an image whose digest is ${JSON.stringify(image.digest)}, not a string`, ref);
  return image.ref === undefined ? { ...(image as ResolvedImage), ref } : (image as ResolvedImage);
}
