/**
 * The Duplex the relay hands to its internal http.Server as a `'connection'` (Node documents that any Duplex may be
 * injected): the relay pushes one request's raw bytes into its readable side, and what node:http writes (the response)
 * goes to the relay's sink, with backpressure both ways.
 */
import { Duplex } from "node:stream";

/** Where an InjectedSocket's written bytes and events go. */
export interface InjectedSocketSink {
  /** Response bytes from node:http; call `done` when more may come. */
  write(chunk: Buffer, done: (error?: Error | null) => void): void;
  /** node:http ended its side. */
  end(): void;
  /** The readable side wants more request bytes. */
  read(): void;
  /** The socket was destroyed (by node:http, a handler, or the relay). */
  destroyed(error: Error | null): void;
}

/** Addresses of the real client connection, shown to handlers as `req.socket.remoteAddress` and so on. */
export interface InjectedSocketPeer {
  /** Client address (undefined on UNIX sockets). */
  readonly remoteAddress?: string | undefined;
  /** Client port. */
  readonly remotePort?: number | undefined;
  /** Local address. */
  readonly localAddress?: string | undefined;
  /** Local port. */
  readonly localPort?: number | undefined;
  /** True when the client connection uses TLS. */
  readonly encrypted?: boolean | undefined;
}

/** A Duplex that looks enough like a net.Socket for node:http's server side. */
export class InjectedSocket extends Duplex {
  /** Client address. */
  readonly remoteAddress: string | undefined;
  /** Client port. */
  readonly remotePort: number | undefined;
  /** Local address. */
  readonly localAddress: string | undefined;
  /** Local port. */
  readonly localPort: number | undefined;
  /** True when the client connection uses TLS. */
  readonly encrypted: boolean;
  private readonly sink: InjectedSocketSink;

  /** A socket whose output goes to `sink`. */
  constructor(sink: InjectedSocketSink, peer: InjectedSocketPeer = {}) {
    super({ allowHalfOpen: true, decodeStrings: true });
    this.sink = sink;
    this.remoteAddress = peer.remoteAddress;
    this.remotePort = peer.remotePort;
    this.localAddress = peer.localAddress;
    this.localPort = peer.localPort;
    this.encrypted = peer.encrypted === true;
  }

  /** Request bytes for node:http; false when it wants no more for now (wait for the sink's `read`). */
  pushRequest(chunk: Buffer): boolean {
    if (this.destroyed || this.readableEnded) return false;
    return this.push(chunk);
  }

  /** No more request bytes will come. */
  endRequest(): void {
    if (!this.destroyed && !this.readableEnded) this.push(null);
  }

  /** A net.Socket method node:http may call; timeouts belong to the relay. */
  setTimeout(_ms: number, callback?: () => void): this {
    if (callback) this.once("timeout", callback);
    return this;
  }

  /** A net.Socket method node:http may call; no effect here. */
  setNoDelay(_noDelay?: boolean): this {
    return this;
  }

  /** A net.Socket method node:http may call; no effect here. */
  setKeepAlive(_enable?: boolean, _delay?: number): this {
    return this;
  }

  /** The local address, as net.Socket#address gives it. */
  address(): { address?: string; port?: number } {
    return { ...(this.localAddress !== undefined && { address: this.localAddress }), ...(this.localPort !== undefined && { port: this.localPort }) };
  }

  override _read(): void {
    this.sink.read();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.sink.write(chunk, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.sink.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.sink.destroyed(error);
    callback(error);
  }
}
