/**
 * One client connection of the relay. It reads one request head at a time; a request that matches a route is served in
 * process (./inProcessServer.ts), every other one passes to the engine over this connection's own upstream socket, its
 * head and body bytes unchanged as they arrive, and the engine's response comes back the same way. The response is
 * parsed only to know where it ends. A 101 response, or a final response delimited by the connection's close (Docker's
 * older 200 hijack), turns the connection into a raw tunnel in which each side's end of input is passed on (half-close).
 */
import type { Socket } from "node:net";
import { TLSSocket } from "node:tls";
import { asError, errorMessage, errorResponseBytes } from "./errorResponse.js";
import { HttpParseError } from "./http1Errors.js";
import type { RequestHead, ResponseHead } from "./http1Head.js";
import { createRequestParser, createResponseParser, type Http1Parser } from "./http1Parser.js";
import { InjectedSocket } from "./injectedSocket.js";
import type { InProcessServer } from "./inProcessServer.js";
import type { RouteMatch, RouteMatcher, UpstreamAddress } from "./routeTypes.js";
import { UpstreamLink } from "./upstreamLink.js";

/** The engine broke HTTP (a malformed response, bytes that answer no request); reported, never thrown at callers. */
export class RelayProtocolError extends Error {
  override name = "RelayProtocolError";
}

/** What every connection of one relay shares. */
export interface RelayConnectionContext {
  /** The engine's address. */
  readonly upstream: UpstreamAddress;
  /** The engine's address as a URL, for messages. */
  readonly upstreamUrl: string;
  /** Finds in-process routes. */
  readonly routes: RouteMatcher;
  /** Serves in-process routes. */
  readonly inProcess: InProcessServer;
  /** Time allowed for a request head, from the connection's start or the head's first byte, in ms (0: none). */
  readonly headersTimeoutMs: number;
  /** Time a kept-alive connection may wait for its next request, in ms (0: none). */
  readonly idleTimeoutMs: number;
  /** Largest request head, in bytes. */
  readonly maxHeadBytes: number;
  /** Time allowed to connect to the engine, in ms (0: none). */
  readonly connectTimeoutMs: number;
  /** Time a connection being closed waits for its peers to finish before it is destroyed, in ms. */
  readonly lingerMs: number;
  /** Told about failures that concern the operator (the engine's protocol errors, relay bugs). */
  readonly report: (error: Error) => void;
}

type Mode = "http" | "tunnel" | "closing" | "closed";
type TimerKind = "head" | "idle" | "linger";

interface Exchange {
  readonly head: RequestHead;
  local: InjectedSocket | undefined;
  requestDone: boolean;
  responseDone: boolean;
  /** Bytes of the response went to the client. */
  responseStarted: boolean;
  /** The engine sent at least one byte for this request. */
  upstreamAnswered: boolean;
  /** The upstream connection had served a request before this one. */
  reused: boolean;
  retried: boolean;
  closeAfter: boolean;
}

/** Methods a request may be sent again for when a reused engine connection closed before answering it. */
const replayable = new Set(["GET", "HEAD", "OPTIONS"]);

/** The relay's state machine for one client connection. */
export class RelayConnection {
  /** The client's socket. */
  readonly client: Socket;
  private readonly ctx: RelayConnectionContext;
  private readonly onClosed: (connection: RelayConnection) => void;
  private mode: Mode = "http";
  private readonly requests: Http1Parser<RequestHead>;
  private readonly responses: Http1Parser<ResponseHead>;
  private input: Buffer[] = [];
  private exchange: Exchange | undefined;
  private upstream: UpstreamLink | undefined;
  private clientBlocked = false;
  private clientEnded = false;
  private localBlocked = false;
  private pendingLocalWrite: (() => void) | undefined;
  private upstreamEndedInTunnel = false;
  private draining = false;
  private pumping = false;
  private pumpAgain = false;
  private pumpScheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private timerKind: TimerKind | undefined;

  /** Starts relaying `client`; `onClosed` is called once when it is gone. */
  constructor(client: Socket, ctx: RelayConnectionContext, onClosed: (connection: RelayConnection) => void) {
    this.client = client;
    this.ctx = ctx;
    this.onClosed = onClosed;
    this.requests = createRequestParser({ maxHeadBytes: ctx.maxHeadBytes });
    this.responses = createResponseParser({ maxHeadBytes: Math.max(ctx.maxHeadBytes, 256 * 1024) });
    client.on("data", (chunk: Buffer) => this.guard(() => this.onClientData(chunk)));
    client.on("end", () => this.guard(() => this.onClientEnd()));
    client.on("drain", () => this.guard(() => this.onClientDrain()));
    client.on("error", () => undefined); // "close" follows
    client.on("close", () => this.onClientClose());
    client.setNoDelay(true); // TCP clients: no Nagle delay on heads and small frames (no effect on UNIX sockets)
    this.armTimer("head", ctx.headersTimeoutMs);
  }

  /** True while a request is in flight or the connection is a tunnel. */
  get busy(): boolean {
    return this.mode === "tunnel" || this.exchange !== undefined || (this.mode === "http" && this.requests.phase !== "idle");
  }

  /** Stop after the request in flight (tunnels run on); an idle connection closes now. */
  shutdown(): void {
    this.draining = true;
    if (this.mode === "http" && !this.busy && this.input.length === 0) this.closeGracefully();
  }

  /** Destroys the connection and its upstream socket now. */
  destroy(): void {
    if (this.mode === "closed") return;
    this.client.destroy();
    this.teardown();
  }

  // ---------------------------------------------------------------- plumbing

  private guard(action: () => void): void {
    try {
      action();
    } catch (error) {
      this.ctx.report(asError(error));
      this.destroy();
    }
  }

  private armTimer(kind: TimerKind, ms: number): void {
    this.clearTimer();
    if (ms <= 0) return;
    this.timerKind = kind;
    this.timer = setTimeout(() => this.guard(() => this.onTimer(kind)), ms);
    if (kind === "linger") this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerKind = undefined;
  }

  private onTimer(kind: TimerKind): void {
    this.timer = undefined;
    this.timerKind = undefined;
    if (kind === "linger") return this.destroy();
    if (this.mode !== "http" || this.exchange) return;
    if (kind === "head") {
      this.clientWrite(errorResponseBytes(408, `no complete request head within ${this.ctx.headersTimeoutMs} ms`, { close: true }));
    }
    this.closeGracefully();
  }

  private clientWrite(data: Buffer): void {
    if (this.client.destroyed || this.client.writableEnded || data.length === 0) return;
    if (!this.client.write(data)) {
      this.clientBlocked = true;
      this.upstream?.socket.pause();
    }
  }

  private onClientDrain(): void {
    this.clientBlocked = false;
    this.upstream?.socket.resume();
    const done = this.pendingLocalWrite;
    this.pendingLocalWrite = undefined;
    done?.();
  }

  private updateClientReading(): void {
    if (this.mode === "closed") return;
    if (this.mode === "tunnel") {
      if (this.upstream?.blocked) this.client.pause();
      else this.client.resume();
      return;
    }
    if (this.mode === "closing") {
      this.client.resume();
      return;
    }
    const ex = this.exchange;
    if (this.input.length > 0 || (ex && !ex.requestDone && this.sinkBlocked(ex))) this.client.pause();
    else this.client.resume();
  }

  private sinkBlocked(ex: Exchange): boolean {
    return ex.local ? this.localBlocked : (this.upstream?.blocked ?? false);
  }

  // ---------------------------------------------------------------- client input

  private onClientData(chunk: Buffer): void {
    if (this.mode === "tunnel") return this.toUpstreamRaw(chunk);
    if (this.mode !== "http") return; // closing: dropped
    this.input.push(chunk);
    this.pump();
  }

  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    const corked = this.upstream?.socket;
    corked?.cork(); // a request head and the body bytes after it leave in one write
    try {
      do {
        this.pumpAgain = false;
        this.step();
      } while (this.pumpAgain && this.mode === "http");
    } finally {
      this.pumping = false;
      corked?.uncork();
    }
    this.updateClientReading();
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    queueMicrotask(() => {
      this.pumpScheduled = false;
      if (this.mode === "http") this.guard(() => this.pump());
    });
  }

  private take(n: number): void {
    const first = this.input[0]!;
    if (n >= first.length) this.input.shift();
    else this.input[0] = first.subarray(n);
  }

  /** Feeds buffered client bytes to the current request as far as the state allows. */
  private step(): void {
    while (this.mode === "http" && this.input.length > 0) {
      const chunk = this.input[0]!;
      const ex = this.exchange;
      if (!ex) {
        if (this.requests.phase === "idle" && this.timerKind !== "head") this.armTimer("head", this.ctx.headersTimeoutMs);
        let result;
        try {
          result = this.requests.execute(chunk);
        } catch (error) {
          return this.refuseRequest(error);
        }
        this.take(result.consumed);
        if (result.head) {
          this.clearTimer();
          this.startExchange(result.head);
          if (result.complete && this.exchange?.head === result.head) this.requestComplete();
        }
        continue;
      }
      if (ex.requestDone || this.sinkBlocked(ex)) return;
      let result;
      try {
        result = this.requests.execute(chunk);
      } catch (error) {
        return this.refuseRequestBody(ex, error);
      }
      const body = chunk.subarray(0, result.consumed);
      this.take(result.consumed);
      this.sendBody(ex, body);
      if (result.complete && this.exchange === ex) this.requestComplete();
    }
  }

  private refuseRequest(error: unknown): void {
    if (!(error instanceof HttpParseError)) throw error;
    this.clearTimer();
    this.clientWrite(errorResponseBytes(error.status, `invalid HTTP request: ${error.message}`, { close: true }));
    this.closeGracefully();
  }

  private refuseRequestBody(ex: Exchange, error: unknown): void {
    if (!(error instanceof HttpParseError)) throw error;
    if (ex.responseStarted) return this.destroy();
    this.clientWrite(errorResponseBytes(400, `invalid HTTP request body: ${error.message}`, { close: true }));
    this.closeGracefully();
  }

  private onClientEnd(): void {
    this.clientEnded = true;
    if (this.mode === "tunnel") {
      this.upstream?.end();
      return this.checkTunnelDone();
    }
    if (this.mode !== "http") return;
    const ex = this.exchange;
    if (!ex) return this.closeGracefully();
    if (!ex.requestDone) return this.destroy(); // the request was cut short
    // The client half-closed while waiting for the response: pass it on. dockerd (Go) and node:http both read it as
    // the client going away and cancel the request; whatever answer still comes is delivered, then the connection ends.
    if (ex.local) ex.local.endRequest();
    else this.upstream?.end();
  }

  private onClientClose(): void {
    this.teardown();
  }

  private teardown(): void {
    if (this.mode === "closed") return;
    this.mode = "closed";
    this.clearTimer();
    const ex = this.exchange;
    this.exchange = undefined;
    if (ex?.local && !ex.local.destroyed) ex.local.destroy(new Error("the client closed the connection"));
    const up = this.upstream;
    this.upstream = undefined;
    if (up) {
      // a tunnel that ended both ways: let the last bytes for the engine flush
      if (up.ended && !up.writable) up.destroyAfter(this.ctx.lingerMs);
      else up.destroy();
    }
    this.input = [];
    this.pendingLocalWrite = undefined;
    this.onClosed(this);
  }

  /** Ends the client connection after what was written, dropping further input; destroyed after lingerMs. */
  private closeGracefully(): void {
    if (this.mode === "closing" || this.mode === "closed") return;
    this.mode = "closing";
    this.clearTimer();
    const ex = this.exchange;
    this.exchange = undefined;
    if (ex?.local && !ex.local.destroyed) ex.local.destroy();
    this.dropUpstream();
    this.input = [];
    this.pendingLocalWrite = undefined;
    if (!this.client.writableEnded) this.client.end();
    this.client.resume();
    this.armTimer("linger", this.ctx.lingerMs);
  }

  // ---------------------------------------------------------------- exchanges

  private startExchange(head: RequestHead): void {
    const ex: Exchange = {
      head,
      local: undefined,
      requestDone: false,
      responseDone: false,
      responseStarted: false,
      upstreamAnswered: false,
      reused: false,
      retried: false,
      closeAfter: !head.keepAlive,
    };
    this.exchange = ex;
    this.responses.reset(head.method);
    let match: RouteMatch | undefined;
    try {
      match = this.ctx.routes(head.method, head.target);
    } catch (error) {
      this.ctx.report(asError(error));
      this.clientWrite(errorResponseBytes(500, `route matching failed: ${errorMessage(error)}`, { close: true }));
      return this.closeGracefully();
    }
    if (match) this.startLocal(ex, match);
    else this.sendHeadUpstream(ex);
  }

  private sendBody(ex: Exchange, body: Buffer): void {
    if (body.length === 0) return;
    if (ex.local) {
      if (!ex.local.pushRequest(body)) this.localBlocked = true;
    } else this.writeUpstream(body);
  }

  private requestComplete(): void {
    const ex = this.exchange!;
    ex.requestDone = true;
    if (ex.responseDone) this.finishExchange();
  }

  private responseComplete(ex: Exchange): void {
    ex.responseDone = true;
    const head = this.responses.head;
    if (!head || !head.keepAlive) ex.closeAfter = true;
    if (!ex.local && this.upstream) {
      this.upstream.served += 1;
      if (!head?.keepAlive) this.dropUpstream();
    }
    if (ex.requestDone) this.finishExchange();
    else if (!ex.local && !this.upstream) this.closeGracefully(); // answered early and gone: the rest of the body has nowhere to go
  }

  private finishExchange(): void {
    const ex = this.exchange!;
    this.exchange = undefined;
    this.requests.reset();
    this.responses.reset();
    this.localBlocked = false;
    if (ex.local) ex.local.endRequest();
    if (ex.closeAfter || this.clientEnded || this.draining) return this.closeGracefully();
    this.armTimer("idle", this.ctx.idleTimeoutMs);
    this.schedulePump();
  }

  // ---------------------------------------------------------------- in-process routes

  private startLocal(ex: Exchange, match: RouteMatch): void {
    const c = this.client;
    const socket: InjectedSocket = new InjectedSocket(
      {
        write: (chunk, done) => this.guard(() => this.onLocalWrite(socket, chunk, done)),
        end: () => this.guard(() => this.onLocalEnd(socket)),
        read: () => {
          if (this.exchange?.local === socket && this.localBlocked) {
            this.localBlocked = false;
            this.schedulePump();
          }
        },
        destroyed: (error) => this.guard(() => this.onLocalDestroyed(socket, error)),
      },
      { remoteAddress: c.remoteAddress, remotePort: c.remotePort, localAddress: c.localAddress, localPort: c.localPort, encrypted: c instanceof TLSSocket },
    );
    ex.local = socket;
    this.localBlocked = false;
    this.ctx.inProcess.serve(match, socket);
    if (!socket.pushRequest(ex.head.raw)) this.localBlocked = true;
  }

  private onLocalWrite(socket: InjectedSocket, chunk: Buffer, done: (error?: Error | null) => void): void {
    const ex = this.exchange;
    if (this.mode !== "http" || !ex || ex.local !== socket || ex.responseDone) return done();
    let pos = 0;
    while (pos < chunk.length && !ex.responseDone) {
      const inHead = this.responses.phase === "idle" || this.responses.phase === "head";
      let result;
      try {
        result = this.responses.execute(chunk, pos);
      } catch (error) {
        done();
        throw new RelayProtocolError(`an in-process route wrote a malformed response: ${errorMessage(error)}`);
      }
      if (result.head?.switchesProtocols) {
        done();
        throw new RelayProtocolError("an in-process route answered 101; in-process routes cannot switch protocols");
      }
      const part = !inHead || result.head;
      if (part) this.clientWrite(result.head ? result.head.raw : chunk.subarray(pos, pos + result.consumed));
      pos += result.consumed;
      if (!part) continue; // part of a head: it goes out whole once complete
      ex.responseStarted = true;
      if (result.complete) this.responseComplete(ex);
    }
    if (this.clientBlocked) this.pendingLocalWrite = () => done();
    else done();
  }

  private onLocalEnd(socket: InjectedSocket): void {
    const ex = this.exchange;
    if (this.mode !== "http" || !ex || ex.local !== socket || ex.responseDone) return;
    let complete = false;
    try {
      complete = this.responses.finish();
    } catch {
      complete = false;
    }
    if (complete) {
      ex.closeAfter = true; // a body delimited by the close: the client's connection must close too
      return this.responseComplete(ex);
    }
    this.localFailed(ex, "the route handler ended the connection before its response was complete");
  }

  private onLocalDestroyed(socket: InjectedSocket, error: Error | null): void {
    const ex = this.exchange;
    if (this.mode !== "http" || !ex || ex.local !== socket || ex.responseDone) return;
    this.localFailed(ex, `the route handler closed its response before it was complete${error ? `: ${error.message}` : ""}`);
  }

  private localFailed(ex: Exchange, message: string): void {
    if (ex.responseStarted) return this.destroy();
    const why = this.clientEnded ? "the request was cancelled: the client closed its side of the connection before the answer" : message;
    this.clientWrite(errorResponseBytes(500, why, { close: true }));
    this.closeGracefully();
  }

  // ---------------------------------------------------------------- upstream

  private dial(): UpstreamLink {
    const up = new UpstreamLink(this.ctx.upstream, this.ctx.connectTimeoutMs, {
      data: (link, chunk) => this.guard(() => this.onUpstreamData(link, chunk)),
      end: (link) => this.guard(() => this.onUpstreamEnd(link)),
      drain: (link) => this.guard(() => this.onUpstreamDrain(link)),
      close: (link) => this.guard(() => this.onUpstreamClose(link)),
    });
    this.upstream = up;
    if (this.clientBlocked) up.socket.pause();
    return up;
  }

  private dropUpstream(): void {
    const up = this.upstream;
    this.upstream = undefined;
    up?.destroy();
  }

  private writeUpstream(data: Buffer): void {
    this.upstream?.write(data);
  }

  private onUpstreamDrain(up: UpstreamLink): void {
    if (up !== this.upstream) return;
    if (this.mode === "tunnel") this.updateClientReading();
    else if (this.mode === "http") this.pump();
  }

  private sendHeadUpstream(ex: Exchange): void {
    let up = this.upstream;
    if (!up) {
      try {
        up = this.dial();
      } catch (error) {
        // dialing threw at once (e.g. unreadable TLS material): the same answer as a failed connect
        this.clientWrite(errorResponseBytes(502, `cannot reach the engine at ${this.ctx.upstreamUrl}: ${errorMessage(error)}`, { close: true }));
        return this.closeGracefully();
      }
    }
    ex.reused = up.served > 0;
    this.writeUpstream(ex.head.raw);
  }

  private onUpstreamData(up: UpstreamLink, chunk: Buffer): void {
    if (up !== this.upstream) return;
    if (this.mode === "tunnel") return this.clientWrite(chunk);
    if (this.mode !== "http") return;
    // a head and the body bytes after it leave in one write
    this.client.cork();
    try {
      this.relayResponseBytes(up, chunk);
    } finally {
      this.client.uncork();
    }
  }

  private relayResponseBytes(up: UpstreamLink, chunk: Buffer): void {
    const ex = this.exchange;
    if (!ex || ex.local || ex.responseDone) {
      this.ctx.report(new RelayProtocolError(`the engine at ${this.ctx.upstreamUrl} sent ${chunk.length} bytes that answer no request`));
      this.dropUpstream();
      if (ex && !ex.local && !ex.requestDone) this.closeGracefully(); // the early answer was delivered; the body cannot follow
      return;
    }
    ex.upstreamAnswered = true;
    let pos = 0;
    while (pos < chunk.length) {
      const inHead = this.responses.phase === "idle" || this.responses.phase === "head";
      let result;
      try {
        result = this.responses.execute(chunk, pos);
      } catch (error) {
        return this.badUpstreamResponse(ex, error);
      }
      const head = result.head;
      if (head) {
        pos += result.consumed;
        if (!head.interim && (head.switchesProtocols || head.body.kind === "until-close")) return this.enterTunnel(ex, head.raw, chunk.subarray(pos));
        this.clientWrite(head.raw);
      } else if (inHead) {
        pos += result.consumed; // part of a head: the parser keeps it until the head is whole, then it goes out at once
        continue;
      } else {
        this.clientWrite(chunk.subarray(pos, pos + result.consumed));
        pos += result.consumed;
      }
      ex.responseStarted = true;
      if (result.complete) {
        this.responseComplete(ex);
        if (pos < chunk.length) {
          this.ctx.report(new RelayProtocolError(`the engine at ${this.ctx.upstreamUrl} sent ${chunk.length - pos} bytes after its response`));
          if (this.upstream === up) this.dropUpstream();
        }
        return;
      }
    }
  }

  private badUpstreamResponse(ex: Exchange, error: unknown): void {
    const message = `the engine at ${this.ctx.upstreamUrl} sent a malformed response: ${errorMessage(error)}`;
    this.ctx.report(new RelayProtocolError(message));
    this.dropUpstream();
    if (ex.responseStarted) return this.destroy();
    this.clientWrite(errorResponseBytes(502, message, { close: true }));
    this.closeGracefully();
  }

  private onUpstreamEnd(up: UpstreamLink): void {
    if (up !== this.upstream) return;
    if (this.mode === "tunnel") {
      this.upstreamEndedInTunnel = true;
      if (!this.client.writableEnded) this.client.end();
      return this.checkTunnelDone();
    }
    if (this.mode === "http") this.upstreamGone(up, new Error("the engine closed the connection"));
  }

  private onUpstreamClose(up: UpstreamLink): void {
    if (up !== this.upstream) return;
    if (this.mode === "tunnel") {
      if (!up.ended) this.destroy(); // reset in the middle of the tunnel
      return;
    }
    if (this.mode === "http") this.upstreamGone(up, up.error ?? new Error("the connection closed"));
  }

  /** The upstream connection ended or failed while in HTTP mode. */
  private upstreamGone(up: UpstreamLink, error: Error): void {
    this.dropUpstream();
    const ex = this.exchange;
    if (!ex || ex.local) return; // idle: the next request dials again
    if (ex.responseDone) {
      if (!ex.requestDone) this.closeGracefully(); // answered early, then gone: the rest of the body has nowhere to go
      return;
    }
    if (ex.responseStarted) return this.destroy(); // cut off in the middle of the response
    if (!ex.retried && ex.reused && ex.requestDone && !ex.upstreamAnswered && replayable.has(ex.head.method) && ex.head.body.kind === "none") {
      // a kept-alive connection the engine closed just as the request went out: send it again on a new one
      ex.retried = true;
      this.responses.reset(ex.head.method);
      return this.sendHeadUpstream(ex);
    }
    const message = up.ready
      ? `the engine at ${this.ctx.upstreamUrl} closed the connection before answering: ${error.message}`
      : `cannot reach the engine at ${this.ctx.upstreamUrl}: ${error.message}`;
    const close = !ex.requestDone || ex.closeAfter || this.clientEnded;
    this.clientWrite(errorResponseBytes(502, message, { close }));
    ex.responseStarted = true;
    ex.responseDone = true;
    if (close) return this.closeGracefully();
    this.finishExchange();
  }

  // ---------------------------------------------------------------- tunnel

  private enterTunnel(ex: Exchange, head: Buffer, rest: Buffer): void {
    this.mode = "tunnel";
    this.clearTimer();
    ex.responseStarted = true;
    this.exchange = undefined;
    this.clientWrite(head);
    this.clientWrite(rest);
    const pending = this.input;
    this.input = [];
    for (const data of pending) this.writeUpstream(data);
    if (this.clientEnded) this.upstream?.end();
    this.updateClientReading();
  }

  private toUpstreamRaw(chunk: Buffer): void {
    const up = this.upstream;
    if (!up) return;
    up.write(chunk);
    if (up.blocked) this.client.pause();
  }

  private checkTunnelDone(): void {
    // both sides ended: the sockets close by themselves once flushed; the timer bounds a peer that never closes
    if (this.clientEnded && this.upstreamEndedInTunnel) this.armTimer("linger", this.ctx.lingerMs);
  }
}
