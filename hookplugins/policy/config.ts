/**
 * Where the policy comes from: HOOKPLUGINS_POLICY (inline JSON) or HOOKPLUGINS_POLICY_FILE (a JSON file, re-read when
 * it changes). Neither set: no rule is on.
 */
import { readFileSync, statSync } from "node:fs";
import { PolicyConfigError, validateRules, type PolicyRules } from "./rules.js";

/** The variable holding the policy as inline JSON. */
export const policyVariable = "HOOKPLUGINS_POLICY";
/** The variable naming the policy JSON file. */
export const policyFileVariable = "HOOKPLUGINS_POLICY_FILE";

interface Cached {
  readonly key: string;
  readonly rules: PolicyRules;
}

let cached: Cached | undefined;

function parse(text: string, source: string): PolicyRules {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new PolicyConfigError(`${source} is not valid JSON (${(error as Error).message}); fix the policy configuration`);
  }
  return validateRules(data, source);
}

/**
 * The rules in effect now, read from `env` (default: process.env). The file is read again only when its size or
 * modification time changes, so an edited policy applies to the next call without a restart.
 */
export function currentRules(env: NodeJS.ProcessEnv = process.env): PolicyRules {
  const inline = env[policyVariable];
  const file = env[policyFileVariable];
  if (inline !== undefined && inline !== "" && file !== undefined && file !== "") {
    throw new PolicyConfigError(`both ${policyVariable} and ${policyFileVariable} are set; set only one of them`);
  }
  if (inline !== undefined && inline !== "") {
    const key = `inline:${inline}`;
    if (cached?.key !== key) cached = { key, rules: parse(inline, policyVariable) };
    return cached.rules;
  }
  if (file !== undefined && file !== "") {
    let stamp: string;
    try {
      const stat = statSync(file);
      stamp = `file:${file}:${stat.size}:${stat.mtimeMs}`;
    } catch (error) {
      throw new PolicyConfigError(`cannot read the policy file ${file} (${policyFileVariable}): ${(error as Error).message}; create it or unset ${policyFileVariable}`);
    }
    if (cached?.key !== stamp) cached = { key: stamp, rules: parse(readFileSync(file, "utf8"), `policy file ${file}`) };
    return cached.rules;
  }
  return {};
}
