/**
 * The floor of bench:proxy: the least a proxy process can do, a bare Node pipe that joins each client connection to a
 * new connection to the engine (no HTTP parsing, no hooks). Run as `tsx bench/rawPipe.ts <listen socket> <engine socket>`.
 */
import { connect, createServer } from "node:net";

const [listen, upstream] = process.argv.slice(2);
createServer({ allowHalfOpen: true }, (client) => {
  const engine = connect(upstream!);
  client.pipe(engine);
  engine.pipe(client);
  client.on("error", () => engine.destroy());
  engine.on("error", () => client.destroy());
}).listen({ path: listen!, backlog: 1024 }, () => process.stdout.write("Serving\n"));
