/**
 * The plugin process of bench/external.bench.ts: serves one ContainerPlugin (preCreate sets a label) on the socket
 * given as its argument, until SIGTERM.
 */
import { serve } from "hookplugins/external";
import { benchPlugin } from "./externalPlugin.js";

const server = await serve(benchPlugin, { socket: process.argv[2]! });
process.stdout.write(`ready ${server.address}\n`);
