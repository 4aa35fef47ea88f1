/**
 * HelperProcess: one helper child process, started and waited for until it prints a "ready" line,
 * stopped with SIGTERM (then SIGKILL), in its own process group so that nothing it forks outlives it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { helperSource } from "./helperSource.js";

/** The default helper script shipped next to this module (run with the current Node binary). */
export const defaultHelperScript = join(dirname(fileURLToPath(import.meta.url)), "helper.js");

/**
 * argv of the default helper: `node <script>`, or, when the script is not there (the plugin was bundled into another
 * folder, e.g. dist/), the same program from the embedded copy: `node --input-type=module -e <helper.js text>`.
 */
export function defaultHelperCommand(script = defaultHelperScript): string[] {
  return existsSync(script) ? [process.execPath, script] : [process.execPath, "--input-type=module", "-e", helperSource];
}

/** Options of a HelperProcess; every field has a default. */
export interface HelperProcessOptions {
  /**
   * argv of the helper. Default: `/bin/sh -c "$HOOKPLUGINS_HELPER_CMD"` when that variable is set when the helper
   * starts, else defaultHelperCommand() (the helper.js shipped with the plugin).
   */
  readonly command?: readonly string[];
  /** Extra environment for the helper, on top of this process's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** How long to wait for the "ready" line, in ms. Default 5000. */
  readonly readyTimeoutMs?: number;
  /** How long to wait for the helper to exit after SIGTERM before sending SIGKILL, in ms. Default 3000. */
  readonly stopTimeoutMs?: number;
}

/** How a helper ended. */
export interface HelperExit {
  /** Exit code, or null when a signal ended it. */
  readonly code: number | null;
  /** The signal that ended it, or null. */
  readonly signal: NodeJS.Signals | null;
}

const readyPattern = /^ready\b(.*)$/;

/** Longest wait, after a helper exited, for the rest of its output (its pipes close once its group is gone). */
const outputDrainMs = 2000;

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

function describeCommand(argv: readonly string[]): string {
  if (argv.includes(helperSource)) return `${argv[0] ?? "node"} <embedded helper.js>`;
  return argv.map((arg) => (/^[\w./=:@-]+$/.test(arg) ? arg : JSON.stringify(arg))).join(" ");
}

function parseFields(rest: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const word of rest.trim().split(/\s+/)) {
    const eq = word.indexOf("=");
    if (eq > 0) fields[word.slice(0, eq)] = word.slice(eq + 1);
  }
  return fields;
}

/** One helper child process with a start/stop life cycle. */
export class HelperProcess {
  readonly #options: HelperProcessOptions;
  #child: ChildProcess | undefined;
  #exited: Promise<HelperExit> | undefined;
  #ready: Record<string, string> = {};
  #lastExit: HelperExit | undefined;
  readonly #killOnExit = (): void => this.#killGroup("SIGKILL");

  /** Creates a stopped helper. */
  constructor(options: HelperProcessOptions = {}) {
    this.#options = options;
  }

  /** The helper's pid while it runs. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Whether the helper is running. */
  get running(): boolean {
    return this.#child !== undefined;
  }

  /** The key=value fields of the helper's ready line (the default helper reports pid and socket). */
  get readyInfo(): Readonly<Record<string, string>> {
    return this.#ready;
  }

  /** How the last helper ended, once one has. */
  get lastExit(): HelperExit | undefined {
    return this.#lastExit;
  }

  /** The argv the next start runs. */
  command(): readonly string[] {
    if (this.#options.command) return this.#options.command;
    const fromEnv = process.env["HOOKPLUGINS_HELPER_CMD"];
    if (fromEnv && fromEnv.trim() !== "") return ["/bin/sh", "-c", fromEnv];
    return defaultHelperCommand();
  }

  /** Starts the helper and resolves once it printed its ready line; a second call while it runs does nothing. */
  async start(signal: AbortSignal): Promise<void> {
    if (this.#child) return;
    signal.throwIfAborted();
    const argv = this.command();
    const shown = describeCommand(argv);
    const child = spawn(argv[0]!, argv.slice(1), {
      detached: true,
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, ...this.#options.env },
    });
    const exited = new Promise<HelperExit>((resolve) => {
      child.once("exit", (code, exitSignal) => resolve({ code, signal: exitSignal }));
      child.once("error", () => {
        // spawn failures emit "error" and no "exit"
        if (child.pid === undefined) resolve({ code: null, signal: null });
      });
    });
    // "close" comes after the exit and after the child's stdout and stderr have ended: only then is all it wrote read
    const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
    this.#child = child;
    this.#exited = exited;
    process.once("exit", this.#killOnExit);
    child.stdin?.on("error", () => {
      // the helper closed its stdin: nothing to do
    });
    let stderrTail = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderrTail = (stderrTail + chunk.toString("utf8")).slice(-2000);
    });
    const lines = createInterface({ input: child.stdout! });
    const timeoutMs = this.#options.readyTimeoutMs ?? 5000;

    try {
      this.#ready = await new Promise<Record<string, string>>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`helper \`${shown}\` did not print a "ready" line within ${timeoutMs} ms`)),
          timeoutMs,
        );
        const onAbort = (): void => reject(signal.reason);
        signal.addEventListener("abort", onAbort, { once: true });
        const settle = (): void => {
          clearTimeout(timer);
          signal.removeEventListener("abort", onAbort);
        };
        // the listener stays after ready: it keeps draining stdout so the helper never blocks on a full pipe
        lines.on("line", (line) => {
          const match = readyPattern.exec(line);
          if (!match) return;
          settle();
          resolve(parseFields(match[1] ?? ""));
        });
        child.once("error", (error) => {
          settle();
          reject(new Error(`cannot start helper \`${shown}\`: ${error.message}`));
        });
        void exited.then(async (exit) => {
          clearTimeout(timer);
          // The exit can be seen before the last of what the helper wrote has been read. Kill what is left of its
          // group (a straggler could hold the pipes open), then read stdout and stderr to their end, so that the error
          // holds all of stderr (and a ready line written just before the exit still counts).
          this.#killGroup("SIGKILL");
          await Promise.race([closed, delay(outputDrainMs)]);
          settle();
          const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${String(exit.code)}`;
          const tail = stderrTail.trim();
          reject(new Error(`helper \`${shown}\` ${how} before it printed a "ready" line${tail ? `: ${tail}` : ""}`));
        });
      });
    } catch (error) {
      await this.#terminate("SIGKILL", 0);
      throw error;
    }
    void exited.then((exit) => {
      if (this.#child !== child) return;
      this.#lastExit = exit;
      this.#forget();
    });
  }

  /** Stops the helper: SIGTERM, then SIGKILL after stopTimeoutMs (or at once when `signal` aborts); resolves once it is gone. */
  async stop(signal: AbortSignal): Promise<void> {
    if (!this.#child) return;
    if (signal.aborted) {
      await this.#terminate("SIGKILL", 0);
      throw signal.reason;
    }
    let aborted = false;
    const onAbort = (): void => {
      aborted = true;
      this.#killGroup("SIGKILL");
    };
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      await this.#terminate("SIGTERM", this.#options.stopTimeoutMs ?? 3000);
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
    if (aborted) throw signal.reason;
  }

  /** Sends `first` to the group, SIGKILL after `graceMs`, waits for the exit, and kills any stragglers of the group. */
  async #terminate(first: NodeJS.Signals, graceMs: number): Promise<void> {
    const child = this.#child;
    const exited = this.#exited;
    if (!child || !exited) return;
    child.stdin?.end();
    this.#killGroup(first);
    let timer: NodeJS.Timeout | undefined;
    if (first !== "SIGKILL") timer = setTimeout(() => this.#killGroup("SIGKILL"), graceMs);
    const exit = await exited;
    clearTimeout(timer);
    this.#killGroup("SIGKILL");
    this.#lastExit = exit;
    this.#forget();
  }

  #killGroup(signal: NodeJS.Signals): void {
    const pid = this.#child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // the group is already gone
    }
  }

  #forget(): void {
    const child = this.#child;
    if (!child) return;
    process.removeListener("exit", this.#killOnExit);
    child.stdout?.destroy();
    child.stderr?.destroy();
    child.stdin?.destroy();
    this.#child = undefined;
    this.#exited = undefined;
  }
}
