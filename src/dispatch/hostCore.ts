/**
 * What a running hook call needs from its host: events, the tracing switch and the watchdog.
 */
import { EventEmitter } from "node:events";
import type * as TypedEmitterModule from "typed-emitter";
import type { PluginHookError } from "../errors.js";
import type { ExternalPluginEvents } from "../external/events.js";
import type { HookName } from "../plugins/hookPoints.js";
import type { FailPolicy } from "../plugins/interfaces.js";
import type { RegisteredPlugin } from "../registry/registry.js";
import type { ChainEntry } from "./chainEntry.js";
import { Watchdog } from "./watchdog.js";

/** A plugin hook call began. */
export interface HookStartEvent {
  /** Plugin name. */
  readonly plugin: string;
  /** Hook point. */
  readonly hook: HookName;
}

/** A plugin hook call finished successfully. */
export interface HookEndEvent extends HookStartEvent {
  /** Wall time of the call in milliseconds. */
  readonly durationMs: number;
}

/** A plugin hook call failed (threw, rejected, returned a bad value, timed out or was cancelled). */
export interface HookErrorEvent extends HookStartEvent {
  /** The error, naming plugin and hook. */
  readonly error: PluginHookError;
  /** The plugin's policy: "fail-open" means the operation went on without it. */
  readonly failPolicy: FailPolicy;
  /** Wall time until the failure, when tracing was on. */
  readonly durationMs: number | undefined;
}

/** The events a host emits. */
export type HostEvents = {
  /** A plugin was registered in the host's registry. */
  registered: (plugin: RegisteredPlugin) => void;
  /** A plugin was unregistered from the host's registry. */
  unregistered: (plugin: RegisteredPlugin) => void;
  /** A plugin hook call began. */
  hookStart: (event: HookStartEvent) => void;
  /** A plugin hook call succeeded. */
  hookEnd: (event: HookEndEvent) => void;
  /** A plugin hook call failed. */
  hookError: (event: HookErrorEvent) => void;
} & ExternalPluginEvents;

/** The typed event emitter of a host. */
export type HostEventEmitter = TypedEmitterModule.default<HostEvents>;

const traced = new Set<string | symbol>(["hookStart", "hookEnd", "hookError"]);

/** Host-wide state shared by every run. */
export class HostCore {
  /** The host's typed events. */
  readonly events: HostEventEmitter = new EventEmitter() as unknown as HostEventEmitter;
  /** The timeouts of async steps. */
  readonly watchdog = new Watchdog();
  /** True while someone listens to per-call events: only then are clocks read. */
  tracing = false;

  /** Creates the core. */
  constructor() {
    const emitter = this.events as unknown as EventEmitter;
    const update = (): void => {
      this.tracing = [...traced].some((name) => emitter.listenerCount(name) > 0);
    };
    emitter.on("newListener", (name: string | symbol) => {
      if (traced.has(name)) this.tracing = true;
    });
    emitter.on("removeListener", update);
  }

  /** Emits hookStart and returns the start time. */
  started(entry: ChainEntry, hook: HookName): number {
    this.events.emit("hookStart", { plugin: entry.name, hook });
    return performance.now();
  }

  /** Emits hookEnd for a call started at `t0`. */
  ended(entry: ChainEntry, hook: HookName, t0: number): void {
    this.events.emit("hookEnd", { plugin: entry.name, hook, durationMs: performance.now() - t0 });
  }

  /** Emits hookError. */
  failed(entry: ChainEntry, hook: HookName, error: PluginHookError, t0: number): void {
    this.events.emit("hookError", {
      plugin: entry.name,
      hook,
      error,
      failPolicy: entry.failOpen ? "fail-open" : "fail-closed",
      durationMs: t0 ? performance.now() - t0 : undefined,
    });
  }
}
