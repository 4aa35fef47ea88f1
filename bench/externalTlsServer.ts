/**
 * The plugin process of the TLS pairing in bench/external.bench.ts: serves the same ContainerPlugin twice from one
 * process, on a plain TCP port and on a TLS port requiring client certificates (PEM files given as arguments),
 * until SIGTERM; prints both addresses on one line.
 *
 *   tsx bench/externalTlsServer.ts <cert.pem> <key.pem> <ca.pem>
 */
import { readFileSync } from "node:fs";
import { serve } from "hookplugins/external";
import { benchPlugin } from "./externalPlugin.js";

const [cert, key, ca] = process.argv.slice(2).map((file) => readFileSync(file));
const plain = await serve(benchPlugin, { port: 0 });
const tls = await serve(benchPlugin, { port: 0, tls: { cert: cert!, key: key!, ca: ca! }, handleSignals: false });
process.on("SIGTERM", () => void tls.close());
process.stdout.write(`ready ${plain.address} ${tls.address}\n`);
