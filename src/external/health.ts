/**
 * Health of one external plugin: after a run of consecutive failures it is held unhealthy for a cool-down, during
 * which fail-closed calls fail fast with its last error and fail-open calls skip it; then one call may try again.
 */

/** Health settings. */
export interface HealthOptions {
  /** Consecutive failures that make a plugin unhealthy (default 5; 0 turns health tracking off). */
  readonly failureThreshold?: number;
  /** How long an unhealthy plugin is held back, in ms (default 30000). */
  readonly coolDownMs?: number;
}

/** A call refused because its plugin is held unhealthy; `cause` is the plugin's last failure. */
export class PluginUnhealthyError extends Error {
  override name = "PluginUnhealthyError";
  /** The plugin's name. */
  readonly plugin: string;
  /** When the cool-down ends (epoch ms). */
  readonly until: number;

  /** Creates the error. */
  constructor(plugin: string, failures: number, until: number, last: Error | undefined) {
    super(
      `plugin "${plugin}" is held unhealthy after ${failures} consecutive failures, for ${Math.max(0, Math.ceil((until - Date.now()) / 1000))} s more; last error: ${last?.message ?? "unknown"}`,
      { cause: last },
    );
    this.plugin = plugin;
    this.until = until;
  }
}

/** What a health change reports. */
export interface HealthChange {
  /** The new state. */
  readonly healthy: boolean;
  /** Consecutive failures at the change. */
  readonly consecutiveFailures: number;
  /** The last failure, when unhealthy. */
  readonly error: Error | undefined;
  /** End of the cool-down, when unhealthy. */
  readonly until: number | undefined;
}

/** Tracks one plugin's consecutive failures and its unhealthy cool-down. */
export class PluginHealth {
  readonly #threshold: number;
  readonly #coolDownMs: number;
  #failures = 0;
  #until = 0;
  #unhealthy = false;
  #last: Error | undefined;

  /** Creates the tracker; `onChange` hears every change of health. */
  constructor(
    readonly plugin: string,
    options: HealthOptions,
    private readonly onChange: (change: HealthChange) => void,
  ) {
    this.#threshold = options.failureThreshold ?? 5;
    this.#coolDownMs = options.coolDownMs ?? 30_000;
  }

  /** Whether the plugin is healthy now. */
  get healthy(): boolean {
    return !this.#unhealthy;
  }

  /** undefined when a call may go ahead; else the error of a held-back plugin (fail-open callers skip instead). */
  check(): PluginUnhealthyError | undefined {
    if (!this.#unhealthy || Date.now() >= this.#until) return undefined;
    return new PluginUnhealthyError(this.plugin, this.#failures, this.#until, this.#last);
  }

  /** Records a successful call. */
  succeeded(): void {
    this.#failures = 0;
    if (this.#unhealthy) {
      this.#unhealthy = false;
      this.onChange({ healthy: true, consecutiveFailures: 0, error: undefined, until: undefined });
    }
  }

  /** Records a failed call (one that says the plugin is not working: unreachable, broken reply, timeout). */
  failed(error: Error): void {
    if (this.#threshold <= 0) return;
    this.#last = error;
    this.#failures++;
    if (this.#failures >= this.#threshold) {
      const wasHealthy = !this.#unhealthy;
      this.#unhealthy = true;
      this.#until = Date.now() + this.#coolDownMs;
      if (wasHealthy) this.onChange({ healthy: false, consecutiveFailures: this.#failures, error, until: this.#until });
    }
  }
}
