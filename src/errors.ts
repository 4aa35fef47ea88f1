/**
 * Error classes. Every error a plugin causes names the plugin and the hook, and keeps the original cause.
 * `instanceof` on them holds across copies of the library in one process (the ESM and the CommonJS build).
 */
import type { HookName } from "./plugins/hookPoints.js";
import type { PluginType } from "./plugins/interfaces.js";

const ordinaryHasInstance = Function.prototype[Symbol.hasInstance];

/**
 * Makes `value instanceof errorClass` true for instances made by any copy of this library loaded in the process:
 * the class's prototype carries a brand from the global symbol registry (`hookplugins.error.<name>`), which every
 * copy's class of that name shares. A subclass that does not share its own instanceof checks the ordinary way.
 */
export function shareInstanceof(errorClass: abstract new (...args: never[]) => Error, name: string): void {
  const brand = Symbol.for(`hookplugins.error.${name}`);
  Object.defineProperty(errorClass.prototype, brand, { value: true });
  Object.defineProperty(errorClass, Symbol.hasInstance, {
    value(this: unknown, value: unknown): boolean {
      if (ordinaryHasInstance.call(this, value)) return true;
      if (this !== errorClass) return false;
      return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[brand] === true;
    },
  });
}

function describe(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  if (typeof cause === "string") return cause;
  try {
    return `non-Error value thrown: ${JSON.stringify(cause)}`;
  } catch {
    return `non-Error value thrown: ${String(cause)}`;
  }
}

/** A plugin object was rejected at registration; the message says what to fix. */
export class PluginRegistrationError extends Error {
  override name = "PluginRegistrationError";
  /** The plugin's name, or "<unnamed>" when it has none. */
  readonly plugin: string;
  /** The interface it was registered as. */
  readonly pluginType: PluginType;
  /** The offending member, when one member is at fault. */
  readonly hook: string | undefined;

  /** Creates the error; `problem` says what is wrong and how to fix it. */
  constructor(plugin: string, pluginType: PluginType, problem: string, hook?: string) {
    super(`cannot register ${pluginType} "${plugin}": ${problem}`);
    this.plugin = plugin;
    this.pluginType = pluginType;
    this.hook = hook;
  }
}

/** A plugin failed while the host ran one of its hooks. */
export class PluginHookError extends Error {
  override name = "PluginHookError";
  /** The failing plugin's name. */
  readonly plugin: string;
  /** The hook point, e.g. "ContainerPlugin.preCreate". */
  readonly hook: HookName;
  /** What the plugin threw or rejected with, unchanged. */
  override readonly cause: unknown;

  /** Wraps `cause`, thrown by `plugin` in `hook`. */
  constructor(plugin: string, hook: HookName, cause: unknown, message?: string) {
    super(message ?? `plugin "${plugin}" failed in ${hook}: ${describe(cause)}`, { cause });
    this.plugin = plugin;
    this.hook = hook;
    this.cause = cause;
  }
}

/** A plugin's async hook did not settle within its time limit. */
export class PluginTimeoutError extends PluginHookError {
  override name = "PluginTimeoutError";
  /** The limit that was exceeded, in milliseconds. */
  readonly timeoutMs: number;

  /** Creates the error for `plugin` in `hook` after `timeoutMs`. */
  constructor(plugin: string, hook: HookName, timeoutMs: number) {
    const cause = new Error(`timed out after ${timeoutMs} ms`);
    super(
      plugin,
      hook,
      cause,
      `plugin "${plugin}" timed out in ${hook} after ${timeoutMs} ms; make the hook finish sooner, honor ctx.signal, or raise the plugin's timeoutMs`,
    );
    this.timeoutMs = timeoutMs;
  }
}

/** The host's caller cancelled the operation while a plugin was running. */
export class PluginAbortedError extends PluginHookError {
  override name = "PluginAbortedError";

  /** Creates the error for `plugin` in `hook`; `reason` is the caller's abort reason. */
  constructor(plugin: string, hook: HookName, reason: unknown) {
    super(plugin, hook, reason, `plugin "${plugin}" was cancelled in ${hook}: ${describe(reason)}`);
  }
}

/** A CliPlugin added a command (or an option flag) whose name a built-in or another plugin's command already has. */
export class CliCommandConflictError extends PluginHookError {
  override name = "CliCommandConflictError";
  /** The command's name. */
  readonly command: string;
  /** The plugin whose command (or flag) was there first; undefined: a built-in command. */
  readonly other: string | undefined;
  /** The flag that conflicts, when it is an option rather than the command itself. */
  readonly flag: string | undefined;

  /**
   * Creates the error: `plugin` (in `hook`) added `command` (or its `flag`), which `other` (undefined: built-in)
   * already has; `locked`: the existing command is locked, so it cannot be wrapped or changed instead.
   */
  constructor(plugin: string, hook: HookName, command: string, other: string | undefined, flag?: string, locked = false) {
    const owner = other === undefined ? `the built-in command "${command}"` : `plugin "${other}"'s command "${command}"`;
    const what = flag === undefined ? `adds command "${command}", which ${owner} already is` : `adds option ${flag} to command "${command}", which ${owner} already has`;
    const fix = locked
      ? `rename the plugin's ${flag === undefined ? "command" : "option"} (the host locked "${command}": plugins cannot wrap or change it)`
      : flag === undefined
        ? `rename the plugin's command, or wrap the existing one by returning it under the same name in its place`
        : `rename the plugin's option, or replace the command's option list instead of adding to it`;
    const cause = new Error(`command "${command}"${flag === undefined ? "" : ` option ${flag}`} defined twice`);
    super(plugin, hook, cause, `plugin "${plugin}" ${what}, in ${hook}; ${fix}`);
    this.command = command;
    this.other = other;
    this.flag = flag;
  }
}

/** A CliPlugin removed, wrapped, hid or changed a command the host locked (`locked: true`: the host runs it itself). */
export class CliCommandLockedError extends PluginHookError {
  override name = "CliCommandLockedError";
  /** The locked command's name. */
  readonly command: string;
  /** What the plugin did to it. */
  readonly change: "removed" | "wrapped" | "hidden" | "changed";

  /** Creates the error: `plugin` (in `hook`) made `change` to the locked command `command`. */
  constructor(plugin: string, hook: HookName, command: string, change: "removed" | "wrapped" | "hidden" | "changed") {
    const verb = { removed: "removes", wrapped: "wraps", hidden: "hides", changed: "changes the options, arguments or description of" }[change];
    const cause = new Error(`locked command "${command}" ${change}`);
    super(
      plugin,
      hook,
      cause,
      `plugin "${plugin}" ${verb} the built-in command "${command}", in ${hook}, but the host runs that command itself and locked it; return it as it was given and add a command under a new name instead`,
    );
    this.command = command;
    this.change = change;
  }
}

shareInstanceof(PluginRegistrationError, "PluginRegistrationError");
shareInstanceof(PluginHookError, "PluginHookError");
shareInstanceof(PluginTimeoutError, "PluginTimeoutError");
shareInstanceof(PluginAbortedError, "PluginAbortedError");
shareInstanceof(CliCommandConflictError, "CliCommandConflictError");
shareInstanceof(CliCommandLockedError, "CliCommandLockedError");
