/**
 * `hookplugins docker-plugin`: serves the project's plugins to Docker Engine as one v1 plugin (authorization plugin
 * and/or volume driver) until SIGTERM or SIGINT.
 */
import { resolve } from "node:path";
import { Command, Option } from "commander";
import type { DockerBridgeOptions } from "../../docker/bridge.js";
import { loadProjectHost } from "../../docker/projectHost.js";
import type { OnChange } from "../../docker/authz.js";
import type { CommandContext } from "../context.js";
import { UsageError } from "../output.js";
import { timeoutOption } from "../optionValues.js";
import { listenForShutdown, type ShutdownSignals } from "../../process/shutdownSignals.js";

/** The options of `hookplugins docker-plugin`. */
export interface DockerPluginOptions {
  /** The Docker plugin name. */
  readonly name: string;
  /** Serve the authorization plugin API. */
  readonly authz?: boolean;
  /** Serve the volume driver API. */
  readonly volumeDriver?: boolean;
  /** Where the volume driver keeps its volumes. */
  readonly volumeRoot?: string;
  /** What to do when plugins would change a request. */
  readonly onChange: OnChange;
  /** Socket path (default /run/docker/plugins/<name>.sock). */
  readonly socket?: string;
  /** Per-request limit in ms. */
  readonly timeout?: string;
}

/** Runs the bridge until SIGTERM or SIGINT. */
export async function dockerPluginCommand(ctx: CommandContext, options: DockerPluginOptions): Promise<void> {
  if (!options.authz && !options.volumeDriver) throw new UsageError("docker-plugin serves nothing: give --authz, --volume-driver, or both");
  if (options.volumeDriver && !options.volumeRoot) throw new UsageError("--volume-driver needs --volume-root <dir>, the folder that holds the volumes");
  if (!options.volumeDriver && options.volumeRoot) throw new UsageError("--volume-root is only used with --volume-driver");
  const requestTimeoutMs = timeoutOption(options.timeout);
  // listening from here on: a signal while the bridge starts stops it as soon as it has started
  const signals = listenForShutdown();
  try {
    await runBridge(ctx, options, requestTimeoutMs, signals);
  } finally {
    signals.dispose();
  }
}

async function runBridge(ctx: CommandContext, options: DockerPluginOptions, requestTimeoutMs: number | undefined, signals: ShutdownSignals): Promise<void> {
  const { host, plugins } = await loadProjectHost(ctx.root, await ctx.stateFile(), requestTimeoutMs !== undefined ? { timeoutMs: requestTimeoutMs } : {});
  const bridgeOptions: DockerBridgeOptions = {
    host,
    name: options.name,
    authz: options.authz === true,
    onChange: options.onChange,
    ...(options.volumeDriver && { volumeDriver: { root: resolve(ctx.cwd, options.volumeRoot!) } }),
    ...(options.socket !== undefined && { socket: resolve(ctx.cwd, options.socket) }),
    ...(requestTimeoutMs !== undefined && { requestTimeoutMs }),
  };
  let bridge;
  try {
    // the bridge's code is loaded when the command runs, not by every command of the CLI
    const { createDockerBridge } = await import("../../docker/bridge.js");
    bridge = await createDockerBridge(bridgeOptions);
  } catch (error) {
    await host.close();
    throw error;
  }
  const names = [...new Set(plugins.filter((p) => p.enabled).map((p) => p.name))];
  if (ctx.out.json) {
    ctx.out.data({ name: bridge.name, socket: bridge.socketPath, implements: bridge.implements, plugins, onChange: options.onChange });
  } else {
    ctx.out.line(
      `Serving ${names.length ? names.join(", ") : "no plugins"} as Docker plugin "${bridge.name}" (${bridge.implements.join(", ")}) on ${bridge.socketPath}; on change: ${options.onChange}.`,
    );
  }
  const signal = await signals.first;
  await bridge.close();
  await host.close();
  if (!ctx.out.json) ctx.out.line(`${signal} received: stopped serving Docker plugin "${bridge.name}".`);
}

/** Adds `docker-plugin` to `program`; `run` is the program's action runner. */
export function addDockerPluginCommand(program: Command, run: (command: Command, action: (ctx: CommandContext) => Promise<void>) => Promise<void>): void {
  program
    .command("docker-plugin")
    .description("serve the project's plugins to Docker Engine as an authorization plugin and/or a volume driver (until SIGTERM or SIGINT)")
    .requiredOption("--name <name>", "the Docker plugin name (--authorization-plugin=<name>, docker volume create -d <name>)")
    .option("--authz", "serve Docker's authorization plugin API: container and volume creates go through preCreate and preVolumeCreate")
    .option("--volume-driver", "serve Docker's volume driver API: volumes go through preVolumeCreate and live under --volume-root")
    .option("--volume-root <dir>", "the folder holding one directory per volume and the volume list")
    .addOption(new Option("--on-change <mode>", "when plugins would change a create request (Docker cannot apply it): deny, warn (allow and print), allow").choices(["deny", "warn", "allow"]).default("deny"))
    .option("--socket <path>", "socket path (default: /run/docker/plugins/<name>.sock)")
    .option("--timeout <ms>", "longest time the plugins may take on one request before it is denied (default 10000)")
    .action((options: DockerPluginOptions, command: Command) => run(command, (ctx) => dockerPluginCommand(ctx, options)));
}
