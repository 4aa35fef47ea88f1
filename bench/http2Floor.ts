/**
 * The HTTP/2 floor of bench:cri: the least any relay built on Node's http2 module can cost. A minimal HTTP/2 server on
 * a UNIX socket that, per stream, opens a stream on one HTTP/2 connection to containerd with the same headers, writes
 * the request body, and sends back the reply's headers, data and trailers: no plugins, no checks, no deadlines, no
 * cancellation, no error handling beyond not crashing. Run as `tsx bench/http2Floor.ts <listen socket> <containerd
 * socket>`; prints `Serving`, then serves until SIGTERM, SIGINT or its stdin closes (the bench died).
 */
import { connect, constants, createServer, type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http2";
import { connect as connectSocket } from "node:net";

const [listen, upstreamPath] = process.argv.slice(2);
const upstream = connect("http://localhost", { createConnection: () => connectSocket(upstreamPath!) });
upstream.on("error", () => undefined);

/** `headers` without the pseudo-headers (reply headers and trailers as the caller gets them). */
function plain(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) if (name[0] !== ":") out[name] = headers[name];
  return out;
}

const server = createServer();
server.on("stream", (stream, headers) => {
  stream.on("error", () => undefined);
  const out: OutgoingHttpHeaders = plain(headers);
  out[":method"] = "POST";
  out[":path"] = headers[":path"];
  const up = upstream.request(out);
  up.on("error", () => undefined);
  let trailers: OutgoingHttpHeaders | undefined;
  up.on("response", (reply, flags) => {
    if (flags & constants.NGHTTP2_FLAG_END_STREAM) {
      stream.respond({ ":status": 200, ...plain(reply) }, { endStream: true });
      return;
    }
    stream.respond({ ":status": 200, ...plain(reply) }, { waitForTrailers: true });
    stream.on("wantTrailers", () => stream.sendTrailers(trailers ?? {}));
  });
  up.on("data", (chunk: Buffer) => stream.write(chunk));
  up.on("trailers", (t) => (trailers = plain(t)));
  up.on("end", () => {
    if (stream.headersSent && !stream.writableEnded) stream.end();
  });
  stream.on("data", (chunk: Buffer) => up.write(chunk));
  stream.on("end", () => up.end());
});
server.listen(listen!, () => process.stdout.write("Serving\n"));

const stop = (): void => {
  upstream.destroy();
  server.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.stdin.on("end", stop).resume();
