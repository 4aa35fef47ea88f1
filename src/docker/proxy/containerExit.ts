/**
 * A container's exit as `onExit` receives it, from the engine's inspect (`State`) and its `die` event. Docker reports
 * a process killed by signal n with status 128+n and nothing else (the die event carries `exitCode` only), so a
 * status above 128 whose rest is a signal number is reported as that signal: a process that calls `exit(137)` itself
 * is reported as SIGKILL too, as `docker ps` shows it.
 */
import { constants } from "node:os";
import type { ContainerJSON } from "hookplugins";
import type { ContainerExit } from "hookplugins";

/** A `die` (or `start`, `oom`) event of the engine's event stream, as far as the proxy reads it. */
export interface ContainerEvent {
  /** "die", "start", "oom". */
  readonly Action?: string;
  /** The container's id (dockerd; Podman sends `Actor.ID` too). */
  readonly id?: string;
  /** The container, and the event's attributes: its labels, `image`, `name`, and `exitCode` on die. */
  readonly Actor?: { readonly ID?: string; readonly Attributes?: Readonly<Record<string, string>> };
  /** Seconds since the epoch. */
  readonly time?: number;
  /** Nanoseconds since the epoch (beyond a double's precision: see nanos). */
  readonly timeNano?: number;
  /** `timeNano` exactly as the engine wrote it (set by parseContainerEvent). */
  readonly nanos?: string;
}

/** One line of the engine's event stream as an event, with its `timeNano` kept exact; undefined for anything else. */
export function parseContainerEvent(line: string): ContainerEvent | undefined {
  if (!line.trim().startsWith("{")) return undefined;
  try {
    const event = JSON.parse(line) as ContainerEvent;
    const exact = /"timeNano"\s*:\s*(\d+)/.exec(line)?.[1];
    return exact === undefined ? event : { ...event, nanos: exact };
  } catch {
    return undefined;
  }
}

/** The name of signal `n` ("SIGKILL" for 9), or undefined when it names none. */
export function signalName(n: number): NodeJS.Signals | undefined {
  for (const [name, value] of Object.entries(constants.signals)) if (value === n) return name as NodeJS.Signals;
  return undefined;
}

/** The signal a status of 128+n says killed the process, or undefined for a status that is its own. */
export function signalOfStatus(code: number): NodeJS.Signals | undefined {
  return code > 128 && code < 128 + 65 ? signalName(code - 128) : undefined;
}

/** The event's time in nanoseconds since the epoch, as a decimal string ("" when it has none). */
export function eventNanos(event: ContainerEvent): string {
  if (event.nanos !== undefined) return event.nanos;
  if (typeof event.timeNano === "number") return BigInt(Math.round(event.timeNano)).toString();
  if (typeof event.time === "number") return `${Math.floor(event.time)}000000000`;
  return "";
}

/** `since=` for an event time in nanoseconds: "seconds.nanoseconds", as the engine takes it. */
export function sinceOf(nanos: string): string {
  const padded = nanos.padStart(10, "0");
  return `${padded.slice(0, -9)}.${padded.slice(-9)}`;
}

/**
 * The event's time as the engine writes `State.FinishedAt` (Go's RFC3339Nano): nanoseconds without their trailing
 * zeros ("2026-12-06T12:47:15.49535923Z"), no fraction for a whole second, so both ways of learning an exit agree.
 */
export function eventTime(event: ContainerEvent): string {
  const nanos = eventNanos(event) || "0";
  const whole = new Date(Number(BigInt(nanos) / 1_000_000_000n) * 1000).toISOString().slice(0, 19);
  const fraction = nanos.padStart(10, "0").slice(-9).replace(/0+$/, "");
  return fraction === "" ? `${whole}Z` : `${whole}.${fraction}Z`;
}

/** Docker's zero time, which `FinishedAt` holds before the first exit. */
const zeroTime = "0001-01-01T00:00:00Z";

/** Whether `container`'s inspect shows a run that started after `event` (a restart policy started it again). */
function startedSince(container: ContainerJSON, event: ContainerEvent): boolean {
  const started = Date.parse(container.State?.StartedAt ?? "");
  const nanos = eventNanos(event);
  return Number.isFinite(started) && nanos !== "" && started > Number(BigInt(nanos) / 1_000_000n);
}

/**
 * The exit of an inspected container; the die event, when there is one, gives the status of the exit it reports,
 * and its time when the inspect already shows a later run (so that run's exit stays its own).
 */
export function exitOf(container: ContainerJSON, event?: ContainerEvent, oomEvent = false): ContainerExit {
  const state = event !== undefined && startedSince(container, event) ? undefined : container.State;
  const attribute = event?.Actor?.Attributes?.["exitCode"];
  const code = attribute !== undefined && /^-?\d+$/.test(attribute) ? Number(attribute) : (state?.ExitCode ?? -1);
  const finished = state?.FinishedAt;
  return {
    code,
    signal: signalOfStatus(code),
    oomKilled: state?.OOMKilled === true || oomEvent,
    finishedAt: finished && finished !== zeroTime ? finished : event ? eventTime(event) : new Date().toISOString(),
  };
}

/** Attributes of a container event that are not its labels. */
const eventKeys = new Set(["exitCode", "image", "name", "execDuration", "signal", "containerExitCode", "podId"]);

/**
 * What the proxy knows of a container the engine removed before it could inspect it (`docker run --rm`): its id,
 * name, image and labels from the die event, and the state of its exit. Everything else of an inspect (HostConfig,
 * Config.Env, Mounts, NetworkSettings, StartedAt) is missing.
 */
export function removedContainer(event: ContainerEvent, exit: ContainerExit): ContainerJSON {
  const attributes = event.Actor?.Attributes ?? {};
  const labels = Object.fromEntries(Object.entries(attributes).filter(([key]) => !eventKeys.has(key)));
  const image = attributes["image"];
  return {
    Id: event.Actor?.ID ?? event.id ?? "",
    ...(attributes["name"] !== undefined && { Name: `/${attributes["name"]}` }),
    ...(image !== undefined && { Image: image }),
    Config: { ...(image !== undefined && { Image: image }), Labels: labels },
    State: { Status: "exited", Running: false, Paused: false, Restarting: false, OOMKilled: exit.oomKilled, Dead: false, Pid: 0, ExitCode: exit.code, Error: "", StartedAt: "", FinishedAt: exit.finishedAt },
  } as ContainerJSON;
}
