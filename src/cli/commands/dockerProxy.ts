/**
 * `hookplugins docker-proxy`: serves the Docker Engine API in front of an engine (dockerd, or Podman's Docker-compatible
 * service) with the project's plugins at every hook point the API reaches, until SIGTERM or SIGINT.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import type { DockerProxyOptions } from "../../docker/proxy/dockerProxy.js";
import { loadProjectHost } from "../../docker/projectHost.js";
import { parseUpstreamAddress } from "../../docker/proxy/upstreamAddress.js";
import type { CommandContext } from "../context.js";
import { UsageError } from "../output.js";
import { timeoutOption } from "../optionValues.js";
import { listenForShutdown } from "../../process/shutdownSignals.js";

/** The options of `hookplugins docker-proxy`. */
export interface DockerProxyCommandOptions {
  /** A socket path, or tcp://host:port (needs --tlsverify). */
  readonly listen: string;
  /** The engine's address. */
  readonly upstream: string;
  /** Per-plugin time limit in ms. */
  readonly timeout?: string;
  /** Where prestart hand-offs go. */
  readonly handoffDir?: string;
  /** Require client certificates on a TCP listener. */
  readonly tlsverify?: boolean;
  /** The CA client certificates chain to. */
  readonly tlscacert?: string;
  /** The proxy's certificate. */
  readonly tlscert?: string;
  /** The proxy's key. */
  readonly tlskey?: string;
  /** A folder with ca.pem, cert.pem and key.pem for a TCP engine with TLS (as DOCKER_CERT_PATH). */
  readonly upstreamCertPath?: string;
}

function readPem(ctx: CommandContext, path: string, what: string): string {
  try {
    return readFileSync(resolve(ctx.cwd, path), "utf8");
  } catch (error) {
    throw new UsageError(`cannot read ${what} ${path}: ${(error as Error).message}`);
  }
}

/** Builds the listener option from --listen and the TLS flags. */
function listenOption(ctx: CommandContext, options: DockerProxyCommandOptions): DockerProxyOptions["listen"] {
  if (!options.listen.startsWith("tcp://")) {
    if (options.tlsverify) throw new UsageError("--tlsverify is for a TCP listener (--listen tcp://host:port)");
    return resolve(ctx.cwd, options.listen.replace(/^unix:\/\//, ""));
  }
  const url = new URL(options.listen);
  const port = Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--listen ${options.listen}: give a TCP port, e.g. tcp://127.0.0.1:2376`);
  if (!options.tlsverify || !options.tlscacert || !options.tlscert || !options.tlskey) {
    throw new UsageError("listening on TCP needs TLS with client certificates: --tlsverify --tlscacert <ca.pem> --tlscert <cert.pem> --tlskey <key.pem> (as dockerd); or listen on a UNIX socket");
  }
  return {
    port,
    host: url.hostname.replace(/^\[|\]$/g, ""),
    tls: { ca: readPem(ctx, options.tlscacert, "the CA certificate"), cert: readPem(ctx, options.tlscert, "the certificate"), key: readPem(ctx, options.tlskey, "the key") },
  };
}

/** Runs the proxy until SIGTERM or SIGINT. */
export async function dockerProxyCommand(ctx: CommandContext, options: DockerProxyCommandOptions): Promise<void> {
  const timeoutMs = timeoutOption(options.timeout);
  const listen = listenOption(ctx, options);
  let upstream;
  try {
    const certs = options.upstreamCertPath;
    upstream = parseUpstreamAddress(
      options.upstream,
      certs === undefined
        ? undefined
        : { ca: readPem(ctx, join(certs, "ca.pem"), "the engine's CA"), cert: readPem(ctx, join(certs, "cert.pem"), "the client certificate"), key: readPem(ctx, join(certs, "key.pem"), "the client key") },
    );
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  // listening from here on: a signal while the proxy starts stops it as soon as it has started
  const signals = listenForShutdown();
  try {
    const { host, plugins } = await loadProjectHost(ctx.root, await ctx.stateFile(), timeoutMs !== undefined ? { timeoutMs } : {});
    let proxy;
    try {
      // the proxy's code is loaded when the command runs, not by every command of the CLI
      const { createDockerProxy } = await import("../../docker/proxy/dockerProxy.js");
      proxy = await createDockerProxy({ host, listen, upstream, ...(options.handoffDir !== undefined && { handoffDir: resolve(ctx.cwd, options.handoffDir) }) });
    } catch (error) {
      await host.close();
      throw error;
    }
    const names = [...new Set(plugins.filter((p) => p.enabled).map((p) => p.name))];
    if (ctx.out.json) ctx.out.data({ address: proxy.address, upstream: proxy.upstream, plugins, routes: proxy.routes.map((r) => `${r.method} ${r.path}`) });
    else ctx.out.line(`Serving the Docker Engine API on ${proxy.address} for ${proxy.upstream}, with ${names.length ? names.join(", ") : "no plugins"} (stop with SIGTERM or Ctrl-C).`);
    const signal = await signals.first;
    await proxy.close();
    await host.close();
    if (!ctx.out.json) ctx.out.line(`${signal} received: stopped serving ${proxy.address}.`);
  } finally {
    signals.dispose();
  }
}

/** Adds `docker-proxy` to `program`; `run` is the program's action runner. */
export function addDockerProxyCommand(program: Command, run: (command: Command, action: (ctx: CommandContext) => Promise<void>) => Promise<void>): void {
  program
    .command("docker-proxy")
    .description("serve the Docker Engine API in front of an engine, with the project's plugins at every hook point it reaches (until SIGTERM or SIGINT)")
    .requiredOption("--listen <socket>", "where clients connect (DOCKER_HOST=unix://<socket>): a socket path (mode 0660 with the engine socket's group, else 0600), or tcp://host:port with --tlsverify")
    .option("--upstream <address>", "the engine: unix:///path/to/docker.sock or tcp://host:port", "unix:///var/run/docker.sock")
    .option("--timeout <ms>", "each plugin's time limit (default 10000)")
    .option("--handoff-dir <dir>", "where prestart hooks are left for the runtime wrapper (default /run/hookplugins/prestart)")
    .option("--tlsverify", "require client certificates on a TCP listener")
    .option("--tlscacert <file>", "CA that client certificates must chain to")
    .option("--tlscert <file>", "the proxy's TLS certificate")
    .option("--tlskey <file>", "the proxy's TLS key")
    .option("--upstream-cert-path <dir>", "ca.pem, cert.pem and key.pem for an engine on TCP with TLS (as DOCKER_CERT_PATH)")
    .action((options: DockerProxyCommandOptions, command: Command) => run(command, (ctx) => dockerProxyCommand(ctx, options)));
}
