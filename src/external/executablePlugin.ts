/**
 * OCM-style executable plugins: `<exe> capabilities` prints the Capabilities JSON (bounded time); the process
 * `<exe> serve --socket <path>` is started on the first call, waited for until its socket accepts (bounded),
 * its output lines become pluginLog events, it is stopped after an idle time and started again on the next call,
 * and close() stops it with SIGTERM, a grace period, then SIGKILL (its whole process group). The process gets the host
 * pipe (hostPipe.ts) as stdin, so it can end itself when the host dies, and a pid file beside its socket, so that
 * the host's next start can stop it if it does not (staleProcesses.ts): no orphans.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { rm } from "node:fs/promises";
import { socketAccepts } from "./socketAccepts.js";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { checkCapabilities } from "./capabilities.js";
import { hostPipeOnStdin, hostPipeVariable } from "./hostPipe.js";
import { signalGroup } from "./processIdentity.js";
import { removePidFile, writePidFile } from "./pidFiles.js";
import type { PluginLogEvent, PluginProcessEvent } from "hookplugins";
import type { Capabilities } from "./protocol.js";
import type { PluginTransport } from "./proxy.js";
import { isCancelled, V1CallError, V1Client, type CallCancel, type V1ClientOptions } from "./v1Client.js";

/** Settings of executable plugins. */
export interface ExecutableOptions {
  /** Time limit of `<exe> capabilities`, in ms (default 5000). */
  readonly capabilitiesTimeoutMs?: number;
  /** Time limit for a started process to accept connections on its socket, in ms (default 10000). */
  readonly startTimeoutMs?: number;
  /** Stop a process after this long without calls, in ms (default 600000 = 10 minutes; 0: never). */
  readonly idleTimeoutMs?: number;
  /** Time between SIGTERM and SIGKILL when stopping, in ms (default 3000). */
  readonly stopGraceMs?: number;
}

/** An executable plugin failed to answer `capabilities` or to start. */
export class ExecutablePluginError extends Error {
  override name = "ExecutablePluginError";
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  live.add(child);
  child.once("exit", () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // last resort when the host exits without close(): take the plugin process groups down with it
    process.once("exit", () => {
      for (const c of live) killGroup(c, "SIGKILL");
    });
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid !== undefined) signalGroup(child.pid, signal);
}

/** Runs `<path> capabilities` and checks its output as the Capabilities of plugin `name`. */
export function readExecutableCapabilities(path: string, name: string, timeoutMs = 5000): Promise<Capabilities> {
  return new Promise((resolve, reject) => {
    execFile(path, ["capabilities"], { timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        const e = error as NodeJS.ErrnoException & { killed?: boolean; code?: number | string };
        const why = e.killed
          ? `did not finish within ${timeoutMs} ms`
          : typeof e.code === "number"
            ? `exited with status ${e.code}${stderr.trim() ? `: ${stderr.trim().split("\n").slice(-3).join(" | ")}` : ""}`
            : e.message;
        reject(new ExecutablePluginError(`executable plugin "${name}" (${path}): \`capabilities\` ${why}`));
        return;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(stdout);
      } catch (parseError) {
        reject(new ExecutablePluginError(`executable plugin "${name}" (${path}): \`capabilities\` did not print JSON (${(parseError as Error).message})`));
        return;
      }
      try {
        resolve(checkCapabilities(parsed, name));
      } catch (checkError) {
        reject(new ExecutablePluginError(`executable plugin "${name}" (${path}): ${(checkError as Error).message}`));
      }
    });
  });
}


/** What an ExecutablePlugin reports to its owner. */
export interface ExecutableEvents {
  /** A line of output. */
  log(event: PluginLogEvent): void;
  /** The process started or stopped. */
  process(event: PluginProcessEvent): void;
}

interface Running {
  readonly child: ChildProcess;
  readonly client: V1Client;
  readonly socketPath: string;
  readonly exited: Promise<void>;
  exitedAlready: boolean;
}

/** One executable plugin: starts its process lazily and is the transport its proxies call through. */
export class ExecutablePlugin implements PluginTransport {
  #running: Running | undefined;
  #starting: Promise<Running> | undefined;
  #stopping: Promise<void> | undefined;
  #inflight = 0;
  #idleTimer: NodeJS.Timeout | undefined;
  #closed = false;

  /** Creates the plugin; nothing runs until the first call. */
  constructor(
    readonly name: string,
    readonly path: string,
    private readonly runDir: () => Promise<string>,
    private readonly options: ExecutableOptions,
    private readonly clientOptions: V1ClientOptions,
    private readonly events: ExecutableEvents,
  ) {}

  /** Whether its process runs now. */
  get running(): boolean {
    return this.#running !== undefined && !this.#running.exitedAlready;
  }

  /** Its process id while it runs. */
  get pid(): number | undefined {
    return this.running ? this.#running!.child.pid : undefined;
  }

  /** Its socket path while it runs. */
  get socketPath(): string | undefined {
    return this.running ? this.#running!.socketPath : undefined;
  }

  /** After a broken connection the process is probably dying: the next call waits (briefly) for its exit first. */
  #settling: Promise<void> | undefined;

  #suspect(running: Running, error: unknown): void {
    if (!(error instanceof V1CallError) || (error.kind !== "closed" && error.kind !== "connect")) return;
    const settling = Promise.race([running.exited, sleep(500)]).then(() => {
      if (this.#settling === settling) this.#settling = undefined;
    });
    this.#settling = settling;
  }

  async #ensure(): Promise<Running> {
    if (this.#closed) throw new ExecutablePluginError(`executable plugin "${this.name}" is closed`);
    if (this.#settling) await this.#settling;
    if (this.#stopping) await this.#stopping;
    if (this.#running && !this.#running.exitedAlready) return this.#running;
    return (this.#starting ??= this.#start().finally(() => (this.#starting = undefined)));
  }

  async #start(): Promise<Running> {
    const runDir = await this.runDir();
    const socketPath = join(runDir, `${this.name}.sock`);
    await rm(socketPath, { force: true });
    const startTimeoutMs = this.options.startTimeoutMs ?? 10_000;
    // stdin is the host pipe: held open (never written) while this process lives, closed by the kernel when it dies
    const env = { ...process.env, [hostPipeVariable]: hostPipeOnStdin };
    const child = spawn(this.path, ["serve", "--socket", socketPath], { stdio: ["pipe", "pipe", "pipe"], detached: true, env });
    child.stdin!.on("error", () => undefined); // EPIPE once the plugin has gone: nothing is ever written
    track(child);
    const pidFile = child.pid === undefined ? undefined : writePidFile(runDir, this.name, this.path, socketPath, child.pid).catch(() => undefined);
    const recent: string[] = [];
    for (const stream of ["stdout", "stderr"] as const) {
      const lines = createInterface({ input: child[stream]!, crlfDelay: Infinity });
      lines.on("line", (line) => {
        if (stream === "stderr") {
          // the last 5 lines, oldest first, for the "failed to start" message
          recent.push(line);
          if (recent.length > 5) recent.shift();
        }
        let level: string | undefined;
        if (line.startsWith("{")) {
          try {
            const parsed = JSON.parse(line) as { level?: unknown };
            if (typeof parsed.level === "string") level = parsed.level;
          } catch {
            // not JSON: a plain line
          }
        }
        this.events.log({ plugin: this.name, line, level, stream });
      });
    }
    let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let spawnError: Error | undefined;
    const running: Running = {
      child,
      socketPath,
      client: new V1Client({ kind: "unix", socketPath }, this.clientOptions),
      exitedAlready: false,
      exited: new Promise<void>((resolve) => {
        child.once("error", (error) => {
          spawnError = error;
          resolve();
        });
        child.once("exit", (code, signal) => {
          exitInfo = { code, signal };
          resolve();
        });
      }).then(async () => {
        running.exitedAlready = true;
        running.client.close();
        child.stdin!.destroy();
        const written = await pidFile;
        if (written) await removePidFile(written).catch(() => undefined);
      }),
    };
    const started = Date.now();
    for (;;) {
      if (running.exitedAlready) {
        const why = spawnError
          ? spawnError.message
          : `it exited with ${exitInfo?.signal ? `signal ${exitInfo.signal}` : `status ${exitInfo?.code}`}${recent.length ? `; its last lines: ${recent.join(" | ")}` : ""}`;
        this.events.process({ plugin: this.name, state: "stopped", pid: child.pid, reason: "start-failed", code: exitInfo?.code, signal: exitInfo?.signal });
        throw new ExecutablePluginError(`executable plugin "${this.name}" (${this.path}) failed to start: ${why}`);
      }
      if (await socketAccepts(socketPath)) break;
      if (Date.now() - started > startTimeoutMs) {
        await this.#terminate(running);
        this.events.process({ plugin: this.name, state: "stopped", pid: child.pid, reason: "start-failed", code: exitInfo?.code, signal: exitInfo?.signal });
        throw new ExecutablePluginError(
          `executable plugin "${this.name}" (${this.path}) did not accept connections on ${socketPath} within ${startTimeoutMs} ms of starting; it must listen there when run as \`serve --socket <path>\``,
        );
      }
      await Promise.race([sleep(20), running.exited]);
    }
    this.#running = running;
    this.events.process({ plugin: this.name, state: "started", pid: child.pid, reason: undefined, code: undefined, signal: undefined });
    void running.exited.then(async () => {
      if (this.#running === running) this.#running = undefined;
      this.events.process({ plugin: this.name, state: "stopped", pid: child.pid, reason: this.#stopReason ?? "exited", code: exitInfo?.code, signal: exitInfo?.signal });
      this.#stopReason = undefined;
      await rm(socketPath, { force: true }).catch(() => undefined);
    });
    return running;
  }

  #stopReason: string | undefined;

  async #terminate(running: Running): Promise<void> {
    if (running.exitedAlready) return;
    killGroup(running.child, "SIGTERM");
    const grace = this.options.stopGraceMs ?? 3000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([running.exited, new Promise<void>((r) => (timer = setTimeout(r, grace)))]);
    clearTimeout(timer);
    if (!running.exitedAlready) {
      killGroup(running.child, "SIGKILL");
      await running.exited;
    }
    await rm(running.socketPath, { force: true }).catch(() => undefined);
  }

  /** Stops the process if it runs (SIGTERM, grace, SIGKILL); the next call starts it again. */
  stop(reason = "close"): Promise<void> {
    clearTimeout(this.#idleTimer);
    const running = this.#running;
    if (!running) return this.#stopping ?? Promise.resolve();
    this.#stopReason = reason;
    return (this.#stopping ??= this.#terminate(running).finally(() => (this.#stopping = undefined)));
  }

  /** Stops the process and refuses further calls. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#starting) await this.#starting.catch(() => undefined);
    await this.stop("close");
  }

  #begin(): void {
    this.#inflight++;
    clearTimeout(this.#idleTimer);
  }

  #end(): void {
    if (--this.#inflight > 0) return;
    const idle = this.options.idleTimeoutMs ?? 600_000;
    if (idle > 0 && this.#running) {
      clearTimeout(this.#idleTimer);
      this.#idleTimer = setTimeout(() => void this.stop("idle"), idle);
      this.#idleTimer.unref();
    }
  }

  /** A connect failure while we think the process runs: give its exit a moment to arrive, so the retry restarts it. */
  async #settleAfterConnectFailure(running: Running): Promise<void> {
    await Promise.race([running.exited, sleep(250)]);
  }

  /** JSON call through the (started) process. */
  async call(call: string, body: unknown, cancel: CallCancel): Promise<Record<string, unknown>> {
    this.#begin();
    try {
      for (let attempt = 0; ; attempt++) {
        const running = await this.#ensure();
        try {
          return await running.client.call(call, body, cancel);
        } catch (error) {
          // the request never reached a process that is going away: start it again and send once more
          if (attempt === 0 && error instanceof V1CallError && error.kind === "connect" && !isCancelled(cancel)) {
            await this.#settleAfterConnectFailure(running);
            continue;
          }
          this.#suspect(running, error);
          throw error;
        }
      }
    } finally {
      this.#end();
    }
  }

  /** Streamed call through the (started) process. */
  async stream(call: string, body: Readable, cancel: CallCancel): Promise<Readable> {
    this.#begin();
    let out: Readable;
    let running: Running | undefined;
    try {
      running = await this.#ensure();
      out = await running.client.stream(call, body, cancel);
    } catch (error) {
      if (running) this.#suspect(running, error);
      this.#end();
      throw error;
    }
    out.once("close", () => this.#end());
    return out;
  }
}
