/**
 * Adding the plugins' prestart hooks to a bundle's config.json text. The spec's own prestart hooks (Docker's network
 * hook, ...) count as priority 0: plugin hooks above 0 go before them, the others after them (at equal priority the
 * spec's first). Only the `hooks.prestart` array changes: its existing elements are copied byte for byte, and every
 * other byte of the file (other hook stages, numbers beyond 2^53, key order, spacing) stays as it was.
 */
import { mergePrestartHooks, toOciHooks, type OciHook, type PrestartHook } from "hookplugins";
import { arrayElements, lastMember, objectMembers, skipWhitespace, type JsonSpan } from "./jsonSpans.js";

/** The config.json text is not an OCI spec the wrapper can add hooks to. */
export class SpecHooksError extends Error {
  override name = "SpecHooksError";
}

/** The result of adding hooks. */
export interface AddedHooks {
  /** The new config.json text (the same string when nothing was added). */
  readonly text: string;
  /** The hooks added, in the order they run. */
  readonly added: readonly OciHook[];
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/**
 * Adds `hooks` (the plugins' preStart result, in plugin order) to the prestart hooks of the config.json `text`. A
 * plugin hook equal to one the spec already holds is not added twice (a bundle created again keeps its hooks).
 */
export function addPrestartHooks(text: string, hooks: readonly PrestartHook[]): AddedHooks {
  let spec: unknown;
  try {
    spec = JSON.parse(text);
  } catch (error) {
    throw new SpecHooksError(`is not valid JSON (${(error as Error).message})`);
  }
  if (typeof spec !== "object" || spec === null || Array.isArray(spec)) throw new SpecHooksError("does not hold a JSON object (an OCI runtime spec)");
  const specHooks = (spec as { hooks?: unknown }).hooks;
  if (specHooks !== undefined && specHooks !== null && (typeof specHooks !== "object" || Array.isArray(specHooks))) {
    throw new SpecHooksError(`has "hooks" that is not an object: ${JSON.stringify(specHooks)}`);
  }
  const existing = (specHooks as { prestart?: unknown } | null | undefined)?.prestart;
  if (existing !== undefined && existing !== null && !Array.isArray(existing)) {
    throw new SpecHooksError(`has "hooks.prestart" that is not an array: ${JSON.stringify(existing)}`);
  }
  const present = (existing ?? []) as unknown[];
  const ordered = mergePrestartHooks([], hooks);
  const oci = toOciHooks(ordered);
  const keep = oci.map((hook) => !present.some((other) => sameJson(other, hook)));
  const above = oci.filter((_, i) => keep[i] && ordered[i]!.priority > 0);
  const below = oci.filter((_, i) => keep[i] && ordered[i]!.priority <= 0);
  if (above.length + below.length === 0) return { text, added: [] };
  return { text: spliceWithPrestart(text, above, below), added: [...above, ...below] };
}

/** The text with `hooks.prestart` = above ++ (the spec's own prestart elements, verbatim) ++ below. */
function spliceWithPrestart(text: string, above: readonly OciHook[], below: readonly OciHook[]): string {
  const arrayText = (own: readonly JsonSpan[]): string =>
    `[${[...above.map((h) => JSON.stringify(h)), ...own.map((s) => text.slice(s.start, s.end)), ...below.map((h) => JSON.stringify(h))].join(",")}]`;
  const replace = (span: JsonSpan, by: string): string => text.slice(0, span.start) + by + text.slice(span.end);
  const top = objectMembers(text, skipWhitespace(text, 0));
  const hooksMember = lastMember(top.members, "hooks");
  if (hooksMember === undefined) {
    const last = top.members[top.members.length - 1];
    const at = last ? last.value.end : top.end - 1;
    return `${text.slice(0, at)}${last ? "," : ""}"hooks":{"prestart":${arrayText([])}}${text.slice(at)}`;
  }
  if (text[hooksMember.value.start] !== "{") return replace(hooksMember.value, `{"prestart":${arrayText([])}}`); // null
  const stages = objectMembers(text, hooksMember.value.start);
  const prestart = lastMember(stages.members, "prestart");
  if (prestart === undefined) {
    const at = hooksMember.value.start + 1;
    return `${text.slice(0, at)}"prestart":${arrayText([])}${stages.members.length > 0 ? "," : ""}${text.slice(at)}`;
  }
  if (text[prestart.value.start] !== "[") return replace(prestart.value, arrayText([])); // null
  return replace(prestart.value, arrayText(arrayElements(text, prestart.value.start).elements));
}
