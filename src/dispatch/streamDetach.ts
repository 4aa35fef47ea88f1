/**
 * Undoing what a failed fail-open preUpdate plugin did to the stream it was given.
 *
 * Before the call we note the stream's pipes, its 'data' and 'readable' listeners, its flowing state and
 * whether it has emitted data. After a failure we unpipe and destroy every destination the plugin added, remove
 * the listeners it added and, when no byte was read meanwhile, put the flowing state back, so the rest of the
 * chain reads the stream from its first byte. When bytes were read they are gone: the caller errors the result.
 */
import type { Readable, Writable } from "node:stream";

/** The state of a stream before a fail-open plugin's call. */
export interface StreamSnapshot {
  /** Destinations it was piped to. */
  readonly pipes: readonly Writable[];
  /** Its 'data' listeners. */
  readonly data: readonly unknown[];
  /** Its 'readable' listeners. */
  readonly readable: readonly unknown[];
  /** readableFlowing: null (never read), true or false. */
  readonly flowing: boolean | null;
  /** Whether it had emitted data (readableDidRead). */
  readonly didRead: boolean;
}

interface ReadableInternals {
  _readableState?: { pipes?: unknown };
}

function pipesOf(stream: Readable): Writable[] {
  const pipes = (stream as unknown as ReadableInternals)._readableState?.pipes;
  return Array.isArray(pipes) ? [...(pipes as Writable[])] : [];
}

function didRead(stream: Readable): boolean {
  // a stream that cannot tell counts as read: the result then errors instead of losing bytes silently
  return typeof stream.readableDidRead === "boolean" ? stream.readableDidRead : true;
}

/** Notes what restoreStream needs to undo a call on `stream`. */
export function snapshotStream(stream: Readable): StreamSnapshot {
  return {
    pipes: pipesOf(stream),
    data: stream.listeners("data"),
    readable: stream.listeners("readable"),
    flowing: stream.readableFlowing,
    didRead: didRead(stream),
  };
}

/**
 * Detaches from `stream` everything added since `before` and destroys the destinations it was piped to.
 * Returns whether bytes were read from it meanwhile (then they are lost to the rest of the chain).
 */
export function restoreStream(stream: Readable, before: StreamSnapshot): boolean {
  try {
    let added = false;
    for (const dest of pipesOf(stream)) {
      if (before.pipes.includes(dest)) continue;
      added = true;
      stream.unpipe(dest);
      dest.destroy();
    }
    for (const event of ["data", "readable"] as const) {
      const had = event === "data" ? before.data : before.readable;
      for (const listener of stream.listeners(event)) {
        if (had.includes(listener)) continue;
        added = true;
        stream.removeListener(event, listener as (...args: unknown[]) => void);
      }
    }
    // a stream read before the call cannot say whether the plugin read more: count it as read if it started to
    const consumed = before.didRead ? added : didRead(stream);
    if (!consumed && stream.readableFlowing !== before.flowing && stream.listenerCount("data") === 0) {
      if (stream.readableFlowing) stream.pause();
      // Readable's readableFlowing setter: null again means a later 'data' listener or pipe starts the flow
      (stream as { readableFlowing: boolean | null }).readableFlowing = before.flowing;
    }
    return consumed;
  } catch {
    // a stream that cannot be restored cannot be trusted: treat it as read
    return true;
  }
}
