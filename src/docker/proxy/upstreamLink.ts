/**
 * One relay connection's own connection to the engine: dialed lazily, half-open capable, with a connect timeout, and
 * the state the relay needs about it (connected yet, requests served, write backpressure, end of input, last error).
 */
import type { Socket } from "node:net";
import type { UpstreamAddress } from "./routeTypes.js";
import { dialUpstream, readyEvent } from "./upstreamAddress.js";

/** What a link reports to its relay connection. */
export interface UpstreamLinkEvents {
  /** Bytes from the engine. */
  data(link: UpstreamLink, chunk: Buffer): void;
  /** The engine ended its side. */
  end(link: UpstreamLink): void;
  /** Writes may go on after backpressure. */
  drain(link: UpstreamLink): void;
  /** The connection is gone (after an error, `link.error` says why). */
  close(link: UpstreamLink): void;
}

/** A connection to the engine. */
export class UpstreamLink {
  /** The socket. */
  readonly socket: Socket;
  /** Connected (TLS: handshake done). */
  ready = false;
  /** Responses completed on this connection. */
  served = 0;
  /** The last write asked to wait for "drain". */
  blocked = false;
  /** The engine ended its side. */
  ended = false;
  /** The first error the socket reported. */
  error: Error | undefined;
  private timer: NodeJS.Timeout | undefined;

  /** Dials `address`; a connect that takes longer than `connectTimeoutMs` (0: no limit) fails. */
  constructor(address: UpstreamAddress, connectTimeoutMs: number, events: UpstreamLinkEvents) {
    const socket = dialUpstream(address);
    this.socket = socket;
    socket.once(readyEvent(address), () => {
      this.ready = true;
      this.clearTimer();
    });
    if (connectTimeoutMs > 0) {
      this.timer = setTimeout(() => socket.destroy(new Error(`connect timed out after ${connectTimeoutMs} ms`)), connectTimeoutMs);
    }
    socket.on("data", (chunk: Buffer) => events.data(this, chunk));
    socket.on("end", () => {
      this.ended = true;
      events.end(this);
    });
    socket.on("drain", () => {
      this.blocked = false;
      events.drain(this);
    });
    socket.on("error", (error) => {
      this.error ??= error;
    });
    socket.on("close", () => {
      this.clearTimer();
      events.close(this);
    });
  }

  /** True while bytes can still be written. */
  get writable(): boolean {
    return !this.socket.destroyed && !this.socket.writableEnded;
  }

  /** Writes `data` (queued while connecting); sets `blocked` when the socket asks to wait. */
  write(data: Buffer): void {
    if (this.writable && !this.socket.write(data)) this.blocked = true;
  }

  /** Ends the relay's side (passes a half-close on). */
  end(): void {
    if (this.writable) this.socket.end();
  }

  /** Destroys the connection. */
  destroy(): void {
    this.clearTimer();
    this.socket.destroy();
  }

  /** Destroys the connection after `ms` unless it closed by then (a tunnel that ended both ways, flushing). */
  destroyAfter(ms: number): void {
    this.clearTimer();
    if (this.socket.destroyed) return;
    this.timer = setTimeout(() => this.socket.destroy(), ms);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
