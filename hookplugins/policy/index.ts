/**
 * policy: admission rules for containers and volumes (no privileged containers, host bind mounts only under allowed
 * folders, required labels, a memory ceiling, allowed volume drivers and options). A configuration that breaks a rule
 * is rejected with a message naming each rule and its fix. Rules come from HOOKPLUGINS_POLICY or
 * HOOKPLUGINS_POLICY_FILE; with neither set every rule is off.
 */
import {
  registerContainerPlugin,
  registerVolumePlugin,
  type ContainerCreateConfig,
  type ContainerPlugin,
  type VolumeCreateConfig,
  type VolumePlugin,
} from "hookplugins";
import { currentRules } from "./config.js";
import { checkContainer, checkVolume, PolicyViolationError, validateRules, type PolicyRules } from "./rules.js";

export { currentRules, policyFileVariable, policyVariable } from "./config.js";
export { checkContainer, checkVolume, PolicyConfigError, PolicyViolationError, ruleNames } from "./rules.js";
export type { PolicyRuleName, PolicyRules, PolicyViolation } from "./rules.js";

/** The policy plugin's name under both interfaces. */
export const policyName = "policy";

const meta = {
  name: policyName,
  version: "0.1.0",
  description: "Admission rules: no privileged containers, allowed bind-mount folders, required labels, a memory ceiling, allowed volume drivers and options",
  author: "hookplugins authors",
  // an admission check: run after every plugin that changes the config, so that the final config is checked
  priority: -1000,
} as const;

/** Where a policy plugin gets its rules: a fixed set, or a function asked on every call. */
export type PolicySource = PolicyRules | (() => PolicyRules);

function rulesOf(source: PolicySource): () => PolicyRules {
  if (typeof source === "function") return source;
  const fixed = validateRules(source, "policy rules");
  return () => fixed;
}

/** The policy's ContainerPlugin (preCreate) and VolumePlugin (preVolumeCreate), checking the rules of `source`. */
export function createPolicyPlugins(source: PolicySource = () => currentRules()): { container: ContainerPlugin; volume: VolumePlugin } {
  const rules = rulesOf(source);
  return {
    container: {
      ...meta,
      preCreate(_ctx, config: ContainerCreateConfig) {
        const violations = checkContainer(config, rules());
        if (violations.length) throw new PolicyViolationError(violations);
      },
    },
    volume: {
      ...meta,
      preVolumeCreate(_ctx, config: VolumeCreateConfig) {
        const violations = checkVolume(config, rules());
        if (violations.length) throw new PolicyViolationError(violations);
      },
    },
  };
}

const plugins = createPolicyPlugins();

/** The policy ContainerPlugin registered when this module loads (rules from the environment). */
export const policyContainerPlugin: ContainerPlugin = plugins.container;
/** The policy VolumePlugin registered when this module loads (rules from the environment). */
export const policyVolumePlugin: VolumePlugin = plugins.volume;

registerContainerPlugin(policyContainerPlugin);
registerVolumePlugin(policyVolumePlugin);
