/**
 * What a running hook call needs from its host: events, which of them are listened to, and the watchdog.
 */
import { EventEmitter } from "node:events";
import type * as TypedEmitterModule from "typed-emitter";
import type { PluginHookError } from "../errors.js";
import type { ExternalPluginEvents } from "../plugins/externalEvents.js";
import type { HookName } from "../plugins/hookPoints.js";
import type { FailPolicy } from "../plugins/interfaces.js";
import type { RegisteredPlugin } from "../registry/registry.js";
import { currentClock, type Clock } from "./clock.js";
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
  /** Wall time from the call until the failure, in milliseconds. */
  readonly durationMs: number;
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

/** The per-call events, whose listeners the engine calls itself. */
type CallEventName = "hookStart" | "hookEnd" | "hookError";

/** A listener as EventEmitter stores it (a `once` listener is a wrapper that removes itself first). */
type StoredListener = (this: unknown, event: unknown) => void;

/** Host-wide state shared by every run. */
export class HostCore {
  /** The host's typed events. */
  readonly events: HostEventEmitter = new EventEmitter() as unknown as HostEventEmitter;
  /** The host's clock (the global `performance.now`, bound when the host was created): the time base of deadlines. */
  readonly now: Clock = currentClock();
  /** The timeouts of async steps. */
  readonly watchdog = new Watchdog(this.now);
  /** Someone listens to hookStart. */
  onStart = false;
  /** Someone listens to hookEnd. */
  onEnd = false;
  /** Someone listens to hookError. */
  onError = false;
  /** Someone listens to any per-call event: only then are plugin calls timed for these events. */
  listening = false;
  // The listeners of each per-call event as EventEmitter#rawListeners gave them, taken again after any change
  // (undefined: not taken since). Calling them in order with the emitter as `this` is what emit does, without its
  // argument array and lookups.
  #startListeners: StoredListener[] | undefined = undefined;
  #endListeners: StoredListener[] | undefined = undefined;
  #errorListeners: StoredListener[] | undefined = undefined;

  /** Creates the core. */
  constructor() {
    const emitter = this.events as unknown as EventEmitter;
    const update = (): void => {
      this.onStart = emitter.listenerCount("hookStart") > 0;
      this.onEnd = emitter.listenerCount("hookEnd") > 0;
      this.onError = emitter.listenerCount("hookError") > 0;
      this.listening = this.onStart || this.onEnd || this.onError;
      this.#startListeners = this.#endListeners = this.#errorListeners = undefined;
    };
    // newListener fires before the listener is added: look again once it is in
    emitter.on("newListener", (name: string | symbol) => {
      if (name === "hookStart") this.onStart = true;
      else if (name === "hookEnd") this.onEnd = true;
      else if (name === "hookError") this.onError = true;
      else return;
      this.listening = true;
      this.#startListeners = this.#endListeners = this.#errorListeners = undefined;
    });
    emitter.on("removeListener", update);
  }

  /** Emits hookStart (the caller checks onStart). */
  emitStart(event: HookStartEvent): void {
    this.#call(this.#startListeners ??= this.#listenersOf("hookStart"), event);
  }

  /** Emits hookEnd (the caller checks onEnd). */
  emitEnd(event: HookEndEvent): void {
    this.#call(this.#endListeners ??= this.#listenersOf("hookEnd"), event);
  }

  /** Emits hookError (the caller checks onError). */
  emitError(event: HookErrorEvent): void {
    this.#call(this.#errorListeners ??= this.#listenersOf("hookError"), event);
  }

  #listenersOf(name: CallEventName): StoredListener[] {
    return (this.events as unknown as EventEmitter).rawListeners(name) as StoredListener[];
  }

  #call(listeners: readonly StoredListener[], event: unknown): void {
    // as EventEmitter#emit: in order, the emitter as `this`, on a snapshot (a listener may remove itself)
    for (let i = 0; i < listeners.length; i++) listeners[i]!.call(this.events, event);
  }
}
