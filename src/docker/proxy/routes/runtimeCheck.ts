/**
 * Whether a container's OCI runtime runs the plugins' prestart hooks: only a wrapper written by `hookplugins runtime
 * install` reads the proxy's hand-off. The engine's info names each runtime's path; the wrapper carries a marker in
 * its first lines. A start whose plugins return hooks on a runtime that would drop them is refused, so that no hook
 * is silently lost.
 */
import { open } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { wrapperHeaderPrefix } from "hookplugins/runtime";
import type { UpstreamClient } from "../upstreamClient.js";
import { engineJson } from "./context.js";

/** What the proxy knows of a container's runtime. */
export interface RuntimeVerdict {
  /** The runtime's name in the engine ("runc", "hookplugins", ...). */
  readonly name: string;
  /** Its path, when the engine says it. */
  readonly path: string | undefined;
  /** true: a hookplugins wrapper; false: another runtime; undefined: cannot tell (remote engine, file not readable). */
  readonly runsHooks: boolean | undefined;
}

interface EngineInfo {
  readonly DefaultRuntime?: string;
  readonly Runtimes?: Record<string, { path?: string; Path?: string }>;
}

const infoTtlMs = 5_000;

/** Reads the engine's runtimes (cached for a few seconds) and judges the one a container uses. */
export class RuntimeCheck {
  #info: { at: number; value: Promise<EngineInfo | undefined> } | undefined;
  readonly #verdicts = new Map<string, boolean | undefined>();

  /** Checks runtimes of the engine behind `engine`; `local`: the engine's files are this machine's. */
  constructor(
    readonly engine: UpstreamClient,
    readonly local: boolean,
  ) {}

  /** The verdict for a container whose inspect names `runtime` (HostConfig.Runtime; empty: the default). */
  async judge(runtime: string | undefined, prefix: string): Promise<RuntimeVerdict> {
    const info = await this.#engineInfo(prefix);
    const name = runtime || info?.DefaultRuntime || "runc";
    const entry = info?.Runtimes?.[name];
    const path = entry?.path ?? entry?.Path;
    if (!this.local || path === undefined) return { name, path, runsHooks: undefined };
    if (!this.#verdicts.has(path)) this.#verdicts.set(path, await carriesMarker(path));
    return { name, path, runsHooks: this.#verdicts.get(path) };
  }

  #engineInfo(prefix: string): Promise<EngineInfo | undefined> {
    const now = Date.now();
    if (!this.#info || now - this.#info.at > infoTtlMs) {
      this.#info = {
        at: now,
        value: engineJson<EngineInfo>(this.engine, `${prefix}/info`).then(
          (r) => r.body,
          () => undefined,
        ),
      };
    }
    return this.#info.value;
  }
}

/** Whether the file at `path` (a bare name is looked up on PATH) starts with a hookplugins wrapper's marker. */
async function carriesMarker(path: string): Promise<boolean | undefined> {
  const candidates = isAbsolute(path) ? [path] : (process.env["PATH"] ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin").split(":").map((dir) => join(dir, path));
  for (const candidate of candidates) {
    const file = await open(candidate, "r").catch(() => undefined);
    if (!file) continue;
    try {
      const head = Buffer.alloc(1024);
      const { bytesRead } = await file.read(head, 0, head.length, 0);
      return head.subarray(0, bytesRead).toString("latin1").includes(wrapperHeaderPrefix);
    } finally {
      await file.close();
    }
  }
  return undefined;
}
