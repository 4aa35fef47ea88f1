/**
 * The CLI's external plugin commands: `hookplugins serve <plugin> --socket|--port`, `plugin compile --executable`,
 * and what `plugin list`, `inspect`, `explain`, `enable`/`disable` show or accept about the project's external plugins.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { bundledLibraryPlugin, bundleText, esmRequireBanner } from "../../inclusion/bundleText.js";
import { checkAgreement, checkEngines } from "../../inclusion/checkPlugin.js";
import { loadPlugin } from "../../inclusion/loadPlugin.js";
import { locatePlugin, normalizeSpecifier, type PluginLocation } from "../../inclusion/locatePlugin.js";
import { embeddedManifestLine } from "../../inclusion/pluginManifest.js";
import type { ExternalPluginInfo } from "../../external/externalPlugins.js";
import type { PluginLoadFailure, ProjectPlugins } from "../../inclusion/projectPlugins.js";
import { serve, type HookPluginServer } from "../../external/serve.js";
import type { PluginTlsServerOptions } from "../../external/tlsServerOptions.js";
import { hookMethods } from "../../plugins/hookPoints.js";
import type { PluginType } from "../../plugins/interfaces.js";
import type { PluginSource } from "../../plugins/source.js";
import { defaultRegistry } from "../../registry/defaultRegistry.js";
import type { CommandContext } from "../context.js";
import { table, UsageError } from "../output.js";

/** One external plugin of the project, as the CLI shows it. */
export interface ExternalRow {
  /** Its name. */
  readonly name: string;
  /** Where it was found. */
  readonly source: PluginSource;
  /** Whether the state file leaves it enabled. */
  readonly enabled: boolean;
  /** Executables: whether a process of it runs; sockets and spec files: whether it answered activation. */
  readonly running: boolean;
  /** The process id of a running executable, when one was seen. */
  readonly pid: number | undefined;
  /** Its capabilities, when it answered them. */
  readonly info: ExternalPluginInfo | undefined;
  /** Why it could not be loaded, when it could not. */
  readonly error: string | undefined;
}

/** Process ids whose command line runs `executable` with `serve` (Linux /proc; empty elsewhere). */
function servingPids(executable: string): number[] {
  if (!existsSync("/proc")) return [];
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (args.includes(executable) && args.includes("serve")) pids.push(Number(entry));
    } catch {
      // the process went away
    }
  }
  return pids;
}

/** The external plugins of `loaded` (those that failed to load too) with their state, sorted by name. */
export function externalRows(loaded: ProjectPlugins, disabled: readonly string[]): ExternalRow[] {
  const row = (name: string, source: PluginSource, info: ExternalPluginInfo | undefined, error: string | undefined): ExternalRow => {
    const pids = source.kind === "executable" ? servingPids(source.location) : [];
    return { name, source, enabled: !disabled.includes(name), running: source.kind === "executable" ? pids.length > 0 : info !== undefined, pid: pids[0], info, error };
  };
  return [
    ...(loaded.external?.list() ?? []).map((info) => row(info.name, info.source, info, undefined)),
    ...loaded.failed.filter((f) => f.source.kind !== "module").map((f) => row(f.name, f.source, undefined, f.reason)),
  ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function processText(row: ExternalRow): string {
  if (row.source.kind === "executable") return row.running ? `running (pid ${row.pid})` : "stopped";
  return row.running ? "listening" : "not reachable";
}

/** Prints the external section of `plugin list` (nothing when the project has none). */
export function printExternalList(ctx: CommandContext, rows: readonly ExternalRow[]): void {
  if (rows.length === 0) return;
  ctx.out.line();
  ctx.out.line("External plugins:");
  const cells = rows.map((r) => [(r.enabled ? "yes" : "no").padStart(7), r.name, r.source.kind, processText(r), r.source.location]);
  for (const line of table(["ENABLED", "NAME", "SOURCE", "PROCESS", "LOCATION"], cells)) ctx.out.line(line);
}

/** `plugin inspect <name>` for the external plugin `row`; throws its load error (after printing what is known) when it failed. */
export function inspectExternal(ctx: CommandContext, row: ExternalRow, failure: PluginLoadFailure | undefined): void {
  const caps = row.info?.capabilities;
  const interfaces = (caps?.Plugins ?? []).map((p) => ({
    type: p.Type,
    priority: p.Priority ?? 0,
    hooks: hookMethods[p.Type as PluginType].filter((m) => p.Hooks.includes(m)),
    failPolicy: p.FailPolicy ?? "fail-closed",
    ...(p.TimeoutMs !== undefined && { timeoutMs: p.TimeoutMs }),
  }));
  const info = {
    name: row.name,
    description: caps?.Description ?? "",
    author: caps?.Author ?? "",
    version: caps?.Version ?? "",
    enabled: row.enabled,
    source: row.source,
    process: processText(row),
    ...(row.error !== undefined && { error: row.error }),
    interfaces,
  };
  if (ctx.out.json) ctx.out.data(info);
  else {
    ctx.out.line(`Name: ${info.name}`);
    ctx.out.line(`Description: ${info.description}`);
    ctx.out.line(`Author: ${info.author}`);
    ctx.out.line(`Version: ${info.version}`);
    ctx.out.line(`Enabled: ${info.enabled ? "yes" : "no"}`);
    ctx.out.line(`Source: ${row.source.kind} ${row.source.location}`);
    ctx.out.line(`Process: ${info.process}`);
    if (row.error) ctx.out.line(`Error: ${row.error}`);
    ctx.out.line("Interfaces:");
    for (const i of interfaces) ctx.out.line(`  ${i.type} (priority ${i.priority}): ${i.hooks.join(", ")}`);
  }
  // it could not be loaded: what is known is printed above, and the command fails with the reason
  if (failure) throw failure.error;
}

/** Locates, checks and loads a plugin folder, package or compiled file into the (emptied) default registry. */
async function loadForServing(ctx: CommandContext, target: string): Promise<PluginLocation> {
  const location = locatePlugin(normalizeSpecifier(target, ctx.cwd, ctx.root), ctx.root);
  checkEngines(location);
  defaultRegistry.clear();
  const registered = await loadPlugin(location, ctx.root);
  checkAgreement(location, registered);
  return location;
}

/** The command line options of `hookplugins serve`. */
export interface ServeFlags {
  /** --socket <path>. */
  readonly socket?: string;
  /** --port <n>. */
  readonly port?: string;
  /** --host <addr>. */
  readonly host?: string;
  /** --tls-cert <file>. */
  readonly tlsCert?: string;
  /** --tls-key <file>. */
  readonly tlsKey?: string;
  /** --tls-ca <file>. */
  readonly tlsCa?: string;
  /** --tls-no-client-auth. */
  readonly tlsNoClientAuth?: boolean;
}

/** Checks the --tls-* flags of `serve` and reads their files; undefined without TLS. Throws UsageError for a partial set. */
async function tlsOfFlags(ctx: CommandContext, flags: ServeFlags): Promise<PluginTlsServerOptions | undefined> {
  const noClientAuth = flags.tlsNoClientAuth === true;
  const given = [flags.tlsCert && "--tls-cert", flags.tlsKey && "--tls-key", flags.tlsCa && "--tls-ca", noClientAuth && "--tls-no-client-auth"].filter(Boolean);
  if (given.length === 0) return undefined;
  if (flags.socket !== undefined) throw new UsageError(`${given.join(", ")}: TLS is for --port; a UNIX socket is guarded by its file mode (0600) and Docker dials it without TLS`);
  if (flags.tlsCert === undefined || flags.tlsKey === undefined) {
    throw new UsageError(`serving over TLS needs both --tls-cert <file> and --tls-key <file> (the plugin's certificate and its key); ${flags.tlsCert === undefined ? "--tls-cert" : "--tls-key"} is missing`);
  }
  if (noClientAuth && flags.tlsCa !== undefined) throw new UsageError("--tls-ca checks hosts' client certificates and --tls-no-client-auth turns that off: give one of them");
  if (!noClientAuth && flags.tlsCa === undefined) {
    throw new UsageError("client certificates are required by default: give --tls-ca <file> (the CA that signs the hosts' certificates), or --tls-no-client-auth to let any host that reaches the port call the plugin");
  }
  const read = async (flag: string, file: string): Promise<Buffer> => {
    const path = resolve(ctx.cwd, file);
    try {
      return await readFile(path);
    } catch (error) {
      throw new Error(`${flag} ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { cause: error });
    }
  };
  const [cert, key, ca] = await Promise.all([read("--tls-cert", flags.tlsCert), read("--tls-key", flags.tlsKey), flags.tlsCa === undefined ? undefined : read("--tls-ca", flags.tlsCa)]);
  return { cert, key, ...(ca !== undefined && { ca }), requireClientCert: !noClientAuth };
}

/** How the ready line describes a listening server's transport. */
function transportText(server: HookPluginServer): string {
  if (server.tls === undefined) return "";
  return server.tls.clientCertRequired ? " over TLS, client certificates required" : " over TLS, client certificates not required (--tls-no-client-auth)";
}

/**
 * `hookplugins serve <plugin> --socket <path> | --port <n> [--host <addr>] [--tls-cert --tls-key --tls-ca |
 * --tls-no-client-auth]`: serves one plugin until SIGTERM or SIGINT.
 */
export async function serveCommand(ctx: CommandContext, target: string, options: ServeFlags): Promise<void> {
  if ((options.socket === undefined) === (options.port === undefined)) throw new UsageError("serve needs exactly one of --socket <path> or --port <n>");
  if (options.host !== undefined && options.port === undefined) throw new UsageError("--host goes with --port: it is the address the TCP port listens on");
  const port = options.port === undefined ? undefined : Number(options.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new UsageError(`--port must be a TCP port number, got "${options.port}"`);
  const tls = await tlsOfFlags(ctx, options);
  const location = await loadForServing(ctx, target);
  const server = await serve(defaultRegistry, {
    ...(options.socket !== undefined ? { socket: resolve(ctx.cwd, options.socket) } : { port: port!, host: options.host ?? "127.0.0.1", ...(tls && { tls }) }),
    name: location.manifest.name,
  });
  const closed = new Promise<void>((done) => server.server.once("close", () => done()));
  if (ctx.out.json) ctx.out.data({ serving: location.manifest.name, address: server.address, ...(server.tls && { tls: server.tls }), capabilities: server.capabilities });
  else ctx.out.line(`Serving plugin "${location.manifest.name}" on ${server.address}${transportText(server)} (stop with SIGTERM or Ctrl-C).`);
  if (tls === undefined && options.host !== undefined && !/^(127\.|::1$|localhost$)/.test(options.host)) {
    process.stderr.write(`warning: serving without TLS on ${options.host}: anyone who reaches the port can call the plugin; add --tls-cert, --tls-key and --tls-ca\n`);
  }
  await closed;
}

/** The file `plugin compile --executable` writes by default. */
export function executableFileName(name: string): string {
  return `${name.replace(/[^A-Za-z0-9_-]+/g, "-")}.hookplugin.mjs`;
}

/** `plugin compile <dir> --executable`: one self-contained executable file answering `capabilities` and `serve`. */
export async function compileExecutableCommand(ctx: CommandContext, dir: string, out: string | undefined): Promise<void> {
  const folder = resolve(ctx.cwd, dir);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) throw new Error(`${folder} is not a plugin folder`);
  const location = await loadForServing(ctx, folder);
  defaultRegistry.clear();
  const code = await bundleText(
    {
      stdin: {
        contents: [
          `import ${JSON.stringify(location.entry)};`,
          `import { runExecutablePlugin } from "hookplugins/external";`,
          `process.exitCode = await runExecutablePlugin(process.argv.slice(2));`,
        ].join("\n"),
        resolveDir: ctx.root,
        sourcefile: "hookplugins-executable.ts",
        loader: "ts",
      },
      plugins: [bundledLibraryPlugin(["external"])],
      banner: { js: ["#!/usr/bin/env node", embeddedManifestLine(location.manifest), esmRequireBanner].join("\n") },
    },
    `cannot compile plugin "${location.specifier}" into an executable`,
  );
  const outFile = resolve(ctx.cwd, out ?? executableFileName(location.manifest.name));
  await mkdir(dirname(outFile), { recursive: true });
  await writeFile(outFile, code);
  await chmod(outFile, 0o755);
  if (ctx.out.json) return ctx.out.data({ compiled: location.manifest.name, version: location.manifest.version, file: outFile, executable: true });
  ctx.out.line(`Compiled plugin "${location.manifest.name}" ${location.manifest.version} into the executable ${relative(ctx.cwd, outFile) || outFile}.`);
}
