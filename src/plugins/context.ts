/**
 * HookContext: what every hook method receives first, the TypeScript form of Go's context.Context.
 */
import type { HookName } from "./hookPoints.js";

/** Passed first to every hook method. */
export interface HookContext {
  /** Aborted when this call times out or the host's caller cancels it; stop work when it fires. */
  readonly signal: AbortSignal;
  /** This plugin's name. */
  readonly plugin: string;
  /** The hook point being run, e.g. "ContainerPlugin.preCreate". */
  readonly hook: HookName;
}
