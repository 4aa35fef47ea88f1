/**
 * The opt-in audit of a waterfall run: which plugin changed which leaf field. It wraps a hook point's spec for one
 * call only, so a call without `audit` runs the plain spec and pays nothing.
 */
import type { HookSpec } from "../dispatch/hookSpec.js";
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

const uncopyable: unique symbol = Symbol("uncopyable");

/** A copy of `value` to diff against, or `uncopyable` (that step is then not audited; the call is not affected). */
function snapshotOf(value: unknown): unknown {
  try {
    return copyData(value);
  } catch {
    return uncopyable;
  }
}

/**
 * `spec` for one call that appends to `audit`, after each plugin's result is accepted, the leaves that plugin changed
 * (in place or by returning a replacement). A plugin that fails (or is skipped fail-open) adds nothing. The snapshots
 * are taken by the engine's side (before the run, and after each accepted result), never inside a plugin's call, so
 * they count neither against its time limit nor as its failure.
 */
export function auditedSpec(spec: HookSpec, audit: AuditEntry[], input: unknown): HookSpec {
  // plugins of one run go one at a time, so one snapshot slot is enough
  let snapshot = snapshotOf(input);
  return {
    ...spec,
    accept(run, result, stepInput, entry) {
      spec.accept(run, result, stepInput, entry);
      if (snapshot !== uncopyable) {
        for (const change of diffLeaves(snapshot, run.value)) {
          const after = snapshotOf(change.after);
          audit.push({ pointer: change.pointer, plugin: entry.name, before: change.before, after: after === uncopyable ? change.after : after });
        }
      }
      snapshot = snapshotOf(run.value);
    },
  };
}
