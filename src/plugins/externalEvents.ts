/**
 * The events external plugins cause: log lines from their processes, health changes, process starts and stops.
 */

/** One line an external plugin process wrote. */
export interface PluginLogEvent {
  /** The plugin's name. */
  readonly plugin: string;
  /** The line, without its newline. */
  readonly line: string;
  /** The line's `level` when it is a JSON object with a string `level` (structured logs), else undefined. */
  readonly level: string | undefined;
  /** Which output of the process the line came from. */
  readonly stream: "stderr" | "stdout";
}

/** An external plugin became unhealthy (held back for a cool-down) or healthy again. */
export interface PluginHealthEvent {
  /** The plugin's name. */
  readonly plugin: string;
  /** Its new state. */
  readonly healthy: boolean;
  /** Consecutive failures counted when the state changed. */
  readonly consecutiveFailures: number;
  /** The failure that made it unhealthy. */
  readonly error: Error | undefined;
  /** Until when (epoch ms) calls skip it or fail fast, when unhealthy. */
  readonly until: number | undefined;
}

/** An executable plugin's process started or stopped. */
export interface PluginProcessEvent {
  /** The plugin's name. */
  readonly plugin: string;
  /** What happened. */
  readonly state: "started" | "stopped";
  /** The process id. */
  readonly pid: number | undefined;
  /** Why it stopped: "idle", "close", "exited" (on its own), "start-failed". */
  readonly reason: string | undefined;
  /** Its exit code, when it exited. */
  readonly code: number | null | undefined;
  /** The signal that ended it, when one did. */
  readonly signal: string | null | undefined;
}

/** The events of a set of external plugins (hosts re-emit them on host.events). */
export type ExternalPluginEvents = {
  /** A line an executable plugin wrote on stderr (or stdout). */
  pluginLog: (event: PluginLogEvent) => void;
  /** A plugin's health changed. */
  pluginHealth: (event: PluginHealthEvent) => void;
  /** An executable plugin's process started or stopped. */
  pluginProcess: (event: PluginProcessEvent) => void;
};
