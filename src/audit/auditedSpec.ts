/**
 * The opt-in audit of a waterfall run: which plugin changed which leaf field. It wraps a hook point's spec for one
 * call only, so a call without `audit` runs the plain spec and pays nothing.
 */
import type { HookSpec } from "../dispatch/run.js";
import { copyData } from "../dispatch/copyData.js";
import { diffLeaves } from "./leafDiff.js";

/** One leaf field a plugin changed during a waterfall call. */
export interface AuditEntry {
  /** JSON pointer of the field, e.g. "/HostConfig/Memory". */
  readonly pointer: string;
  /** The plugin that changed it. */
  readonly plugin: string;
  /** The value before that plugin ran (undefined: absent). */
  readonly before: unknown;
  /** The value that plugin left (undefined: removed). */
  readonly after: unknown;
}

/**
 * `spec` for one call that appends to `audit`, after each plugin's result is accepted, the leaves that plugin changed
 * (in place or by returning a replacement). A plugin that fails (or is skipped fail-open) adds nothing.
 */
export function auditedSpec(spec: HookSpec, audit: AuditEntry[]): HookSpec {
  // plugins of one run go one at a time, so one snapshot slot is enough
  let snapshot: unknown;
  return {
    ...spec,
    invoke(fn, target, ctx, input, run) {
      snapshot = copyData(input);
      return spec.invoke(fn, target, ctx, input, run);
    },
    accept(run, result, input, entry) {
      spec.accept(run, result, input, entry);
      for (const change of diffLeaves(snapshot, run.value)) {
        audit.push({ pointer: change.pointer, plugin: entry.name, before: change.before, after: copyData(change.after) });
      }
      snapshot = undefined;
    },
  };
}
