/**
 * Checking a plugin's Capabilities reply: the shape, the name it must share with where it was found, the hook
 * methods of each interface, and the protocol version it chose.
 */
import { hookMethods, pluginTypes, type PluginType } from "hookplugins";
import { protocolVersions, type Capabilities, type CapabilityEntry } from "./protocol.js";

/** A Capabilities reply (or `capabilities` output) that cannot be used. */
export class CapabilitiesError extends Error {
  override name = "CapabilitiesError";
}

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/**
 * Checks `value` as the Capabilities of the plugin found as `name`; `implementsList` (from Activate, when there was
 * one) must name each interface. Throws a CapabilitiesError saying what is wrong.
 */
export function checkCapabilities(value: unknown, name: string, implementsList?: readonly string[]): Capabilities {
  const bad = (problem: string): never => {
    throw new CapabilitiesError(`capabilities of plugin "${name}": ${problem}`);
  };
  if (typeof value !== "object" || value === null || Array.isArray(value)) bad(`expected a JSON object, got ${show(value)}`);
  const c = value as Record<string, unknown>;
  if (c["Name"] !== name) {
    bad(`its Name is ${show(c["Name"])} but it was found as "${name}"; the two must be the same (rename the socket, spec file or executable, or the plugin)`);
  }
  for (const key of ["Version", "Description", "Author"]) {
    if (c[key] !== undefined && typeof c[key] !== "string") bad(`${key} must be a string, got ${show(c[key])}`);
  }
  const version = c["ProtocolVersion"] ?? 1;
  if (typeof version !== "number" || !protocolVersions.includes(version)) {
    bad(`it chose protocol version ${show(version)}, but this host speaks ${protocolVersions.join(", ")}`);
  }
  const entries = c["Plugins"];
  if (!Array.isArray(entries) || entries.length === 0) bad(`Plugins must be a non-empty array of { Type, Priority, Hooks }, got ${show(entries)}`);
  const seen = new Set<string>();
  const checked = (entries as unknown[]).map((raw, i): CapabilityEntry => {
    const where = `Plugins[${i}]`;
    if (typeof raw !== "object" || raw === null) bad(`${where} must be an object, got ${show(raw)}`);
    const e = raw as Record<string, unknown>;
    const type = e["Type"] as PluginType;
    if (!pluginTypes.includes(type)) bad(`${where}.Type is ${show(type)}; it must be one of ${pluginTypes.join(", ")}`);
    if (seen.has(type)) bad(`${where}: ${type} is listed twice`);
    seen.add(type);
    if (implementsList && !implementsList.includes(type)) bad(`${where}: ${type} is not in the Implements list of its Activate reply (${implementsList.join(", ")})`);
    const priority = e["Priority"] ?? 0;
    if (typeof priority !== "number" || !Number.isFinite(priority)) bad(`${where}.Priority must be a finite number, got ${show(priority)}`);
    const own: readonly string[] = hookMethods[type];
    const hooks = e["Hooks"];
    if (!Array.isArray(hooks) || hooks.length === 0) bad(`${where}.Hooks must list ${type} methods (${own.join(", ")}), got ${show(hooks)}`);
    for (const hook of hooks as unknown[]) {
      if (typeof hook !== "string" || !own.includes(hook)) bad(`${where}.Hooks has ${show(hook)}, which is not a ${type} method (${own.join(", ")}; camelCase)`);
    }
    const timeoutMs = e["TimeoutMs"];
    if (timeoutMs !== undefined && (typeof timeoutMs !== "number" || !Number.isFinite(timeoutMs) || timeoutMs < 0)) bad(`${where}.TimeoutMs must be a number of ms >= 0, got ${show(timeoutMs)}`);
    const failPolicy = e["FailPolicy"];
    if (failPolicy !== undefined && failPolicy !== "fail-open" && failPolicy !== "fail-closed") bad(`${where}.FailPolicy must be "fail-open" or "fail-closed", got ${show(failPolicy)}`);
    const routes = e["Routes"];
    if (routes !== undefined) {
      if (type !== "APIPlugin") bad(`${where}.Routes is only for APIPlugin entries`);
      if (!Array.isArray(routes) || !routes.every((r) => typeof r?.Method === "string" && typeof r?.Path === "string" && r.Path.startsWith("/"))) {
        bad(`${where}.Routes must be an array of { "Method": "GET", "Path": "/..." }, got ${show(routes)}`);
      }
    }
    return {
      Type: type,
      Priority: priority as number,
      Hooks: [...new Set(hooks as string[])],
      ...(timeoutMs !== undefined && { TimeoutMs: timeoutMs as number }),
      ...(failPolicy !== undefined && { FailPolicy: failPolicy as "fail-open" | "fail-closed" }),
      ...(routes !== undefined && { Routes: routes as CapabilityEntry["Routes"] }),
    };
  });
  return {
    Name: name,
    ...(c["Version"] !== undefined && { Version: c["Version"] as string }),
    ...(c["Description"] !== undefined && { Description: c["Description"] as string }),
    ...(c["Author"] !== undefined && { Author: c["Author"] as string }),
    ProtocolVersion: version as number,
    Plugins: checked,
  };
}
