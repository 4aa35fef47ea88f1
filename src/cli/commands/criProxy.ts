/**
 * `hookplugins cri-proxy`: a CRI relay between the kubelet (or crictl) and containerd, with the project's plugins on
 * CreateContainer and PullImage, until SIGTERM or SIGINT. The relay's code (src/cri) is imported when the command
 * runs, so `hookplugins --help` and the other commands never load it.
 */
import { resolve } from "node:path";
import type { Command } from "commander";
import type { CriProxy } from "../../cri/index.js";
import { loadProjectHost } from "../../docker/projectHost.js";
import type { CommandContext } from "../context.js";
import { UsageError } from "../output.js";
import { timeoutOption } from "../optionValues.js";
import { listenForShutdown } from "../../process/shutdownSignals.js";

/** The options of `hookplugins cri-proxy`, as typed. */
export interface CriProxyCommandOptions {
  /** The socket path the kubelet connects to (or unix:///path). */
  readonly listen?: string;
  /** containerd's socket: unix:///path (or an absolute path). */
  readonly upstream?: string;
  /** Per-plugin time limit in ms. */
  readonly timeout?: string;
  /** The largest CreateContainer or PullImage request read, in bytes. */
  readonly maxMessageBytes?: string;
  /** The snapshotter postPull names. */
  readonly snapshotter?: string;
}

/** An example of containerd's CRI address, for the usage errors. */
const containerdSocket = "unix:///run/containerd/containerd.sock";

/** The socket path of --listen: a path (relative to the working folder) or unix:///path; never TCP. */
function listenPath(ctx: CommandContext, listen: string | undefined): string {
  if (listen === undefined || listen === "") throw new UsageError("missing --listen: give the socket the kubelet connects to, e.g. --listen /run/hookplugins/cri.sock");
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(listen) && !listen.startsWith("unix://")) {
    throw new UsageError(`--listen ${listen}: the CRI relay listens on a UNIX socket only; give a socket path, e.g. --listen /run/hookplugins/cri.sock`);
  }
  const path = listen.replace(/^unix:\/\//, "");
  if (path === "") throw new UsageError(`--listen ${listen}: give a socket path, e.g. --listen /run/hookplugins/cri.sock`);
  return resolve(ctx.cwd, path);
}

/** `--max-message-bytes <n>` as a number (undefined when not given); a usage error unless a whole number >= `least`. */
function maxMessageBytesOption(value: string | undefined, least: number): number | undefined {
  if (value === undefined) return undefined;
  const bytes = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(bytes) || bytes < least) {
    throw new UsageError(`--max-message-bytes must be a whole number of bytes >= ${least} (the kubelet's own limit), got "${value}"`);
  }
  return bytes;
}

/** Runs the relay until SIGTERM or SIGINT. */
export async function criProxyCommand(ctx: CommandContext, options: CriProxyCommandOptions): Promise<void> {
  const timeoutMs = timeoutOption(options.timeout);
  const listen = listenPath(ctx, options.listen);
  if (options.upstream === undefined || options.upstream === "") throw new UsageError(`missing --upstream: give containerd's socket, e.g. --upstream ${containerdSocket}`);
  if (options.snapshotter !== undefined && options.snapshotter.trim() === "") throw new UsageError('--snapshotter needs a name, e.g. --snapshotter overlayfs (or leave it out: the runtime\'s own)');
  // the package's own subpath: the built CLI loads dist/cri.js, the one copy of the relay, only when this command runs
  const cri = await import("hookplugins/cri");
  const maxMessageBytes = maxMessageBytesOption(options.maxMessageBytes, cri.kubeletMaxMessageBytes);
  let upstream: string;
  try {
    upstream = `unix://${cri.parseCriUpstream(options.upstream)}`;
  } catch (error) {
    if (error instanceof cri.CriUpstreamAddressError) throw new UsageError(`--upstream: ${error.message}`);
    throw error;
  }
  // listening from here on: a signal while the relay starts stops it as soon as it has started
  const signals = listenForShutdown();
  try {
    const { host, plugins } = await loadProjectHost(ctx.root, await ctx.stateFile(), timeoutMs !== undefined ? { timeoutMs } : {});
    let proxy: CriProxy;
    try {
      proxy = await cri.createCriProxy({
        host,
        listen,
        upstream,
        ...(maxMessageBytes !== undefined && { maxMessageBytes }),
        ...(options.snapshotter !== undefined && { snapshotter: options.snapshotter }),
      });
    } catch (error) {
      await host.close();
      throw error;
    }
    const names = [...new Set(plugins.filter((p) => p.enabled).map((p) => p.name))];
    if (ctx.out.json) ctx.out.data({ address: proxy.address, upstream: proxy.upstream, plugins });
    else ctx.out.line(`hookplugins cri-proxy: serving CRI on ${proxy.address}, relaying to ${proxy.upstream} (plugins: ${names.length ? names.join(", ") : "none"}); stop with SIGTERM or Ctrl-C`);
    const signal = await signals.first;
    await proxy.close();
    await host.close();
    if (!ctx.out.json) ctx.out.line(`hookplugins cri-proxy: ${signal} received: stopped serving ${proxy.address}`);
  } finally {
    signals.dispose();
  }
}

/** Adds `cri-proxy` to `program`; `run` is the program's action runner. */
export function addCriProxyCommand(program: Command, run: (command: Command, action: (ctx: CommandContext) => Promise<void>) => Promise<void>): void {
  program
    .command("cri-proxy")
    .description("relay the Kubernetes CRI between the kubelet (or crictl) and containerd, with the project's plugins on CreateContainer and PullImage (until SIGTERM or SIGINT)")
    .option("--listen <socket>", "required: the socket the kubelet connects to (--container-runtime-endpoint unix://<socket>), made mode 0600")
    .option("--upstream <address>", `required: containerd's socket, e.g. ${containerdSocket}`)
    .option("--timeout <ms>", "each plugin's time limit (default 10000)")
    .option("--max-message-bytes <n>", "the largest CreateContainer or PullImage request read (default 16777216, the kubelet's limit)")
    .option("--snapshotter <name>", "the snapshotter ImagePlugin.postPull names (default: the runtime's own, from its status)")
    .action((options: CriProxyCommandOptions, command: Command) => run(command, (ctx) => criProxyCommand(ctx, options)));
}
