/**
 * Recording the proxy's observer calls where it makes them, on host.container: a host whose postStart and onExit
 * record each call, then run the host's own; and waiting for calls to settle.
 */
import type { ContainerJSON, Host } from "hookplugins";
import { sleep } from "../../support/engines/processes.js";

/** An exit as onExit receives it. */
export interface RecordedExit {
  readonly code: number;
  readonly signal: string | undefined;
  readonly oomKilled: boolean;
  readonly finishedAt: string;
}

/** One observer call the proxy made. */
export interface RecordedCall {
  readonly hook: "postStart" | "onExit";
  readonly container: ContainerJSON;
  readonly exit?: RecordedExit;
}

/** Where calls go. */
export interface Recorder {
  readonly calls: RecordedCall[];
  /** postStart of containers whose name starts with this fails (as a host with observerFailures "reject" does). */
  failPrefix?: string | undefined;
}

type Outcome = Promise<{ failures: readonly Error[] }>;
type Methods = Record<string, ((...args: unknown[]) => Outcome) | undefined>;

/** `inner` with host.container.postStart and onExit recording into `recorder()` first. */
export function recordingHost(inner: Host, recorder: () => Recorder): Host {
  const own = inner.container as unknown as Methods;
  const container = Object.create(inner.container) as Methods;
  container["postStart"] = async (c: unknown, ...rest: unknown[]) => {
    const r = recorder();
    r.calls.push({ hook: "postStart", container: c as ContainerJSON });
    if (r.failPrefix && (c as ContainerJSON).Name?.startsWith(`/${r.failPrefix}`)) {
      throw new AggregateError([new Error('plugin "broken" failed in ContainerPlugin.postStart: it always fails; fix the plugin')], "postStart failed");
    }
    return (await own["postStart"]?.(c, ...rest)) ?? { failures: [] };
  };
  container["onExit"] = async (c: unknown, exit: unknown, ...rest: unknown[]) => {
    recorder().calls.push({ hook: "onExit", container: c as ContainerJSON, exit: exit as RecordedExit });
    return (await own["onExit"]?.(c, exit, ...rest)) ?? { failures: [] };
  };
  return Object.assign(Object.create(inner) as Host, { container });
}

/** The calls of `hook` for containers `match` accepts. */
export function callsOf(calls: readonly RecordedCall[], hook: RecordedCall["hook"], match: (c: ContainerJSON) => boolean): RecordedCall[] {
  return calls.filter((c) => c.hook === hook && match(c.container));
}

/** Waits until `count` such calls came (30 s at most), then a little longer for any extra one, and returns them. */
export async function settledCalls(calls: readonly RecordedCall[], hook: RecordedCall["hook"], match: (c: ContainerJSON) => boolean, count = 1): Promise<RecordedCall[]> {
  const deadline = Date.now() + 30_000;
  while (callsOf(calls, hook, match).length < count && Date.now() < deadline) await sleep(50);
  await sleep(700);
  return callsOf(calls, hook, match);
}
