/**
 * The command line of an OCM-style executable plugin: `<exe> capabilities` prints the Capabilities JSON,
 * `<exe> serve --socket <path>` (or `--port <n>`) serves the plugin until SIGTERM or SIGINT, or until the host that
 * started it is gone (the host pipe rule of docs/PROTOCOL.md, which serve() follows).
 */
import { parseArgs } from "node:util";
import { defaultRegistry } from "hookplugins";
import { hookPluginHandlers, serve, type ServablePlugins } from "./serve.js";

const usage = "usage: <plugin> capabilities | <plugin> serve --socket <path> | <plugin> serve --port <n>";

/**
 * Runs an executable plugin's command line on `argv` (without node and script) for `plugins` (default: what the
 * default registry holds); resolves with the exit status once `capabilities` printed or `serve` stopped.
 */
export async function runExecutablePlugin(argv: readonly string[], plugins: ServablePlugins = defaultRegistry): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === "capabilities") {
      process.stdout.write(`${JSON.stringify(hookPluginHandlers(plugins).capabilities)}\n`);
      return 0;
    }
    if (command === "serve") {
      const { values } = parseArgs({ args: rest, options: { socket: { type: "string" }, port: { type: "string" } }, strict: true });
      if ((values.socket === undefined) === (values.port === undefined)) throw new Error("serve needs exactly one of --socket <path> or --port <n>");
      const server = await serve(plugins, values.socket !== undefined ? { socket: values.socket } : { port: Number(values.port) });
      process.stderr.write(`${JSON.stringify({ level: "info", msg: `serving ${server.capabilities.Name} on ${server.address}` })}\n`);
      await new Promise<void>((resolve) => server.server.once("close", () => resolve()));
      return 0;
    }
    process.stderr.write(`${usage}\n`);
    return 2;
  } catch (error) {
    process.stderr.write(`${JSON.stringify({ level: "error", msg: (error as Error).message })}\n`);
    return 1;
  }
}
