/**
 * envlimits: resource limits passed as HOOKPLUGINS_* environment variables become HostConfig fields and leave Env,
 * on container create (preCreate) and on container update (preUpdate).
 */
import { registerContainerPlugin, type ContainerCreateConfig, type ContainerPlugin } from "hookplugins";
import { applyLimits, extractLimits } from "./limits.js";
import { transformUpdateBody } from "./updateBody.js";

/** Moves the limit entries of `config.Env` into `config.HostConfig`, in place; an explicit HostConfig field wins. */
export function applyEnvLimits(config: ContainerCreateConfig): ContainerCreateConfig {
  if (!config.Env) return config;
  const { limits, env, removed } = extractLimits(config.Env);
  if (removed === 0) return config;
  config.Env = env;
  config.HostConfig ??= {};
  applyLimits(config.HostConfig as Record<string, unknown>, limits);
  return config;
}

/** The envlimits ContainerPlugin object (registered in the default registry when this module loads). */
export const envLimitsPlugin: ContainerPlugin = {
  name: "envlimits",
  version: "0.1.0",
  description: "Turns HOOKPLUGINS_MEMORY, _CPU_SHARES and other limit variables in Env into HostConfig resource fields",
  author: "hookplugins authors",
  preCreate: (_ctx, config) => applyEnvLimits(config),
  preUpdate: (ctx, body) => transformUpdateBody(body, ctx.signal),
};

registerContainerPlugin(envLimitsPlugin);
