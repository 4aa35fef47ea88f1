/**
 * ExitWatcher: the proxy's one subscription to the engine's container events (`start`, `die`, `oom`), from which
 * `ContainerPlugin.onExit` runs once per exit of a container's main process, for every container of the engine.
 *
 * - Each `die` is answered with an inspect of the container (`State.ExitCode`, `OOMKilled`, `FinishedAt`); a
 *   container already removed (`docker run --rm`) is described from the event's attributes (see removedContainer).
 * - The stream survives the engine's restarts: when it ends or cannot be opened it is opened again (100 ms, doubling
 *   up to 5 s), with `since=` the last event's time, so that exits during the gap come as replayed events while the
 *   engine kept running. An engine that restarted has forgotten its events: containers that were running before the
 *   gap and are not running after it are inspected, and their exits reported from the inspect.
 * - No exit is reported twice: each one is remembered by container id and `FinishedAt` (and by the die event's time),
 *   across reconnects.
 */
import type { IncomingMessage } from "node:http";
import type { Host } from "hookplugins";
import type { ContainerOrder } from "./containerOrder.js";
import { eventNanos, exitOf, parseContainerEvent, removedContainer, sinceOf, type ContainerEvent } from "./containerExit.js";
import { errorMessage } from "./errorResponse.js";
import { observe } from "./observerHost.js";
import { engineJson, inspectContainer } from "./routes/context.js";
import type { UpstreamClient } from "./upstreamClient.js";

/** Options of an ExitWatcher. */
export interface ExitWatcherOptions {
  /** The engine. */
  readonly engine: UpstreamClient;
  /** The host whose onExit runs. */
  readonly host: Host;
  /** The per-container order the proxy's observer calls keep. */
  readonly order: ContainerOrder;
  /** Writes one line to the proxy's log. */
  readonly log: (line: string) => void;
  /** First and longest wait between attempts to open the stream, in ms (default 100 and 5000). */
  readonly retryMs?: { readonly first: number; readonly max: number };
}

/** The most exits remembered for telling a repeat from a new one. */
const rememberedExits = 10_000;

/** A set that forgets its oldest entries past a size. */
class RecentKeys {
  readonly #keys = new Set<string>();

  constructor(readonly size: number) {}

  has(key: string): boolean {
    return this.#keys.has(key);
  }

  add(key: string): void {
    this.#keys.add(key);
    if (this.#keys.size > this.size) this.#keys.delete(this.#keys.values().next().value!);
  }
}

/** The time a stream answer's `Date` header names, in nanoseconds; now when it has none. */
function nanosOfDate(answer: IncomingMessage): string {
  const ms = Date.parse(answer.headers.date ?? "");
  return `${Number.isNaN(ms) ? Date.now() : ms}000000`;
}

/** The later of two times in nanoseconds (decimal strings; undefined counts as earliest). */
function later(a: string | undefined, b: string): string {
  return a !== undefined && a !== "" && BigInt(a) >= BigInt(b) ? a : b;
}

/** Ends after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}

/** The subscription, its reconnects, and the onExit calls it makes. */
export class ExitWatcher {
  readonly #options: ExitWatcherOptions;
  readonly #abort = new AbortController();
  readonly #reported = new RecentKeys(rememberedExits);
  /** Containers running as far as the events said (what to look at after a gap). */
  #running = new Set<string>();
  /** Container events seen while the running set is being read again (applied over it). */
  #changes: [string, "start" | "die"][] | undefined;
  /** OOM events not yet followed by their die. */
  readonly #oom = new Set<string>();
  /** The last event's time (nanoseconds): where a new stream starts. */
  #since: string | undefined;
  #loop: Promise<void> | undefined;

  /** A watcher; start() opens the stream. */
  constructor(options: ExitWatcherOptions) {
    this.#options = options;
  }

  /** Opens the subscription; resolves once the first attempt connected or failed (it is retried either way). */
  start(): Promise<void> {
    return new Promise((resolve) => {
      this.#loop = this.#run(resolve);
    });
  }

  /** Ends the subscription; resolves once it is closed (onExit calls already queued are the ContainerOrder's). */
  async close(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
  }

  async #run(attempted: () => void): Promise<void> {
    const { engine, log } = this.#options;
    const retry = this.#options.retryMs ?? { first: 100, max: 5_000 };
    const signal = this.#abort.signal;
    let delay = retry.first;
    let connections = 0;
    let lost: string | undefined;
    while (!signal.aborted) {
      try {
        // "died": Podman 4.3 filters by its own name of the event, and sends it as "die"
        const filters = encodeURIComponent(JSON.stringify({ type: ["container"], event: ["start", "die", "died", "oom"] }));
        const since = this.#since === undefined ? "" : `since=${sinceOf(this.#since)}&`;
        const answer = await engine.stream(`/events?${since}filters=${filters}`, signal);
        if (answer.statusCode !== 200) {
          answer.resume();
          throw new Error(`the engine answered GET /events with status ${answer.statusCode ?? 0}`);
        }
        if (lost !== undefined) log(`hookplugins docker-proxy: the engine's event stream is back; exits during the gap are caught up`);
        lost = undefined;
        delay = retry.first;
        this.#since = later(this.#since, nanosOfDate(answer));
        const refreshed = this.#refreshRunning(connections++ > 0);
        attempted();
        await this.#read(answer);
        await refreshed;
        if (!signal.aborted) lost = "the engine ended it";
      } catch (error) {
        attempted();
        if (signal.aborted) break;
        lost = errorMessage(error);
      }
      if (signal.aborted) break;
      if (lost !== undefined && delay === retry.first) log(`hookplugins docker-proxy: lost the engine's event stream (${lost}); opening it again`);
      await pause(delay, signal);
      delay = Math.min(delay * 2, retry.max);
    }
  }

  /** Reads the stream's JSON lines until it ends. */
  #read(answer: IncomingMessage): Promise<void> {
    return new Promise((resolve) => {
      let partial = "";
      answer.setEncoding("utf8");
      answer.on("data", (text: string) => {
        const lines = (partial + text).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) this.#line(line);
      });
      answer.once("error", () => resolve());
      answer.once("close", () => resolve());
      answer.once("end", () => resolve());
    });
  }

  #line(line: string): void {
    const event = parseContainerEvent(line);
    if (event === undefined) return;
    const id = event.Actor?.ID ?? event.id;
    if (typeof id !== "string" || id === "") return;
    const nanos = eventNanos(event);
    if (nanos !== "") this.#since = later(this.#since, nanos);
    if (event.Action === "oom") this.#oom.add(id);
    if (event.Action !== "start" && event.Action !== "die") return;
    this.#changes?.push([id, event.Action]);
    if (event.Action === "start") {
      this.#running.add(id);
      return;
    }
    this.#running.delete(id);
    const oom = this.#oom.delete(id);
    void this.#options.order.run(id, () => this.#exited(id, { event, oom }));
  }

  /**
   * Reads which containers run now. After a gap (`afterGap`), those that ran before it and do not now are inspected:
   * their exits during the gap are reported unless the replayed events already did.
   */
  async #refreshRunning(afterGap: boolean): Promise<void> {
    this.#changes = [];
    try {
      const listed = await engineJson<{ Id?: string }[]>(this.#options.engine, "/containers/json");
      if (!Array.isArray(listed.body)) return;
      const now = new Set(listed.body.map((c) => c.Id).filter((id): id is string => typeof id === "string"));
      for (const [id, action] of this.#changes) {
        if (action === "start") now.add(id);
        else now.delete(id);
      }
      if (afterGap) {
        for (const id of this.#running) if (!now.has(id)) void this.#options.order.run(id, () => this.#exited(id, undefined));
      }
      this.#running = now;
    } catch (error) {
      this.#options.log(`hookplugins docker-proxy: cannot list the engine's running containers (${errorMessage(error)}); exits during a gap in its event stream may be missed`);
    } finally {
      this.#changes = undefined;
    }
  }

  /** Reports one exit (from a die event, or found after a gap) unless it was reported already. */
  async #exited(id: string, from: { event: ContainerEvent; oom: boolean } | undefined): Promise<void> {
    const { engine, host, log } = this.#options;
    const eventKey = from ? `${id}@${eventNanos(from.event)}` : undefined;
    if (eventKey !== undefined && this.#reported.has(eventKey)) return;
    const inspected = await inspectContainer(engine, id).catch(() => ({ status: 0, body: undefined }));
    const container = inspected.body;
    if (container?.State) {
      // found after a gap but running: started again since, and its exit unknown
      if (!from && container.State.Running) return;
      const exit = exitOf(container, from?.event, from?.oom);
      // one exit, however it was learnt (a die event, or found after a gap), is one time
      const key = `${id}#${exit.finishedAt}`;
      if (eventKey !== undefined) this.#reported.add(eventKey);
      if (this.#reported.has(key)) return;
      this.#reported.add(key);
      await observe(host, container, { hook: "onExit", exit }, log);
      return;
    }
    if (!from || eventKey === undefined) {
      log(`hookplugins docker-proxy: container ${id.slice(0, 12)} stopped while the engine's event stream was down and is gone: onExit did not run for it`);
      return;
    }
    this.#reported.add(eventKey);
    const exit = exitOf({}, from.event, from.oom);
    await observe(host, removedContainer(from.event, exit), { hook: "onExit", exit }, log);
  }
}
