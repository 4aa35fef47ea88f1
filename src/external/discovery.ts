/**
 * Finding external plugins the way Docker's pkg/plugins does: sockets in folders (`<dir>/<name>.sock`,
 * `<dir>/<name>/<name>.sock`), spec files (`<name>.spec` holding one URL, `<name>.json` holding Name, Addr and
 * TLSConfig), and, as OCM does, executables in a folder. TCP addresses only when the host allows them.
 */
import { constants } from "node:fs";
import { access, readdir, readFile, stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import type { PluginSource } from "hookplugins";
import { isDockerName } from "./dockerName.js";
import { parsePluginAddress, type PluginAddress, type PluginTlsOptions } from "./v1Client.js";

/** Where a host looks for external plugins. */
export interface ExternalSources {
  /** Folders holding `<name>.sock` or `<name>/<name>.sock`. */
  readonly socketDirs?: readonly string[];
  /** Folders holding `<name>.spec` (one URL) or `<name>.json` ({"Name", "Addr", "TLSConfig"}). */
  readonly specDirs?: readonly string[];
  /** Folders of executables answering `capabilities` and `serve --socket <path>`. */
  readonly executableDirs?: readonly string[];
  /** Whether spec files may point at tcp:// addresses (default false: UNIX sockets only). */
  readonly allowTcp?: boolean;
}

/** One plugin found in a source. */
export interface FoundPlugin {
  /** Its name: the socket, spec or executable file name without extension. */
  readonly name: string;
  /** Where it was found. */
  readonly source: PluginSource;
  /** Its address (sockets and spec files); executables get theirs when started. */
  readonly address: PluginAddress | undefined;
}

/** A file in a source that is not a usable plugin. */
export interface DiscoveryProblem {
  /** The file. */
  readonly path: string;
  /** What is wrong. */
  readonly problem: string;
  /** The plugin it would be: its name, and the kind of source it is in. */
  readonly plugin: { readonly name: string; readonly source: PluginSource };
}

/** What a scan found. */
export interface Discovery {
  /** Usable plugins in lookup order (sockets, then spec files, then executables); the first of a name wins. */
  readonly plugins: readonly FoundPlugin[];
  /** Files that looked like plugins but are not usable. */
  readonly problems: readonly DiscoveryProblem[];
}

async function entries(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}

async function isSocket(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isSocket();
  } catch {
    return false;
  }
}

interface TlsConfigJson {
  InsecureSkipVerify?: boolean;
  CAFile?: string;
  CertFile?: string;
  KeyFile?: string;
}

/**
 * A `.json` spec's TLSConfig as Docker's client reads it: TLS only for an https:// Addr, the plugin's certificate
 * unchecked without a CAFile, CertFile and KeyFile both or neither. Throws an Error naming the field to fix.
 */
async function readTlsConfig(t: TlsConfigJson, url: string): Promise<PluginTlsOptions | undefined> {
  if (/^(tcp|http):\/\//.test(url)) {
    throw new Error(`has a "TLSConfig", but "Addr" is ${url}, which Docker's client dials without TLS; write "Addr": "${url.replace(/^(tcp|http)/, "https")}" to use TLS`);
  }
  if (!url.startsWith("https://")) return undefined;
  if (Boolean(t.CertFile) !== Boolean(t.KeyFile)) {
    throw new Error(`TLSConfig has ${t.CertFile ? `"CertFile" but no "KeyFile"` : `"KeyFile" but no "CertFile"`}; give both (the host's client certificate and its key) or neither`);
  }
  const file = async (field: keyof TlsConfigJson): Promise<Buffer | undefined> => {
    const path = t[field];
    if (typeof path !== "string" || path === "") return undefined;
    try {
      return await readFile(path);
    } catch (error) {
      throw new Error(`cannot read TLSConfig "${field}" ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { cause: error });
    }
  };
  const [ca, cert, key] = [await file("CAFile"), await file("CertFile"), await file("KeyFile")];
  // as Docker's client: without a CAFile the plugin's certificate is not checked
  return { ...(ca && { ca }), ...(cert && { cert }), ...(key && { key }), insecureSkipVerify: t.InsecureSkipVerify === true || ca === undefined };
}

/** Reads a spec file (`.spec` or `.json`) into an address; throws an Error saying what is wrong. */
export async function readSpecFile(path: string, allowTcp: boolean): Promise<PluginAddress> {
  const text = (await readFile(path, "utf8")).trim();
  let url: string;
  let tls: PluginTlsOptions | undefined;
  if (path.endsWith(".json")) {
    let spec: { Addr?: unknown; TLSConfig?: TlsConfigJson | null };
    try {
      spec = JSON.parse(text) as typeof spec;
    } catch (error) {
      throw new Error(`not valid JSON (${(error as Error).message})`);
    }
    if (typeof spec?.Addr !== "string" || spec.Addr === "") throw new Error(`"Addr" must be the plugin's URL (unix:///path.sock, tcp://host:port or https://host:port)`);
    url = spec.Addr;
    if (spec.TLSConfig) tls = await readTlsConfig(spec.TLSConfig, url);
  } else {
    if (text === "") throw new Error("empty spec file; write the plugin's URL in it (unix:///path.sock or tcp://host:port)");
    url = text.split(/\r?\n/)[0]!.trim();
    // as Docker's client: an https:// URL in a .spec file is dialled over TLS without checking the certificate
    if (url.startsWith("https://")) tls = { insecureSkipVerify: true };
  }
  const address = parsePluginAddress(url, tls);
  if (address.kind === "tcp" && !allowTcp) throw new Error(`points at ${url}, but TCP plugins are not allowed here; set "allowTcp": true to use them`);
  return address;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    const info = await stat(path);
    if (!info.isFile()) return false;
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The plugin name of a file: its name up to the first dot ("envlimits.hookplugin.js" → "envlimits"). */
export function pluginNameOfFile(file: string): string {
  const base = basename(file);
  const dot = base.indexOf(".", 1);
  return dot < 0 ? base : base.slice(0, dot);
}

/** Scans every source; never throws for a bad file (it becomes a problem), only for unreadable folders. */
export async function discoverPlugins(sources: ExternalSources): Promise<Discovery> {
  const plugins: FoundPlugin[] = [];
  const problems: DiscoveryProblem[] = [];
  const names = new Set<string>();
  const add = (found: FoundPlugin): void => {
    if (names.has(found.name)) {
      const first = plugins.find((p) => p.name === found.name)!.source.location;
      problems.push({ path: found.source.location, problem: `plugin "${found.name}" was already found earlier (${first}); this one is ignored`, plugin: { name: found.name, source: found.source } });
      return;
    }
    names.add(found.name);
    plugins.push(found);
  };
  for (const dir of (sources.socketDirs ?? []).map((d) => resolve(d))) {
    for (const entry of await entries(dir)) {
      const path = join(dir, entry);
      if (entry.endsWith(".sock")) {
        const name = entry.slice(0, -".sock".length);
        if (!isDockerName(name)) continue;
        if (await isSocket(path)) add({ name, source: { kind: "socket", location: path }, address: { kind: "unix", socketPath: path } });
      } else if (isDockerName(entry) && (await isSocket(join(path, `${entry}.sock`)))) {
        const socketPath = join(path, `${entry}.sock`);
        add({ name: entry, source: { kind: "socket", location: socketPath }, address: { kind: "unix", socketPath } });
      }
    }
  }
  for (const dir of (sources.specDirs ?? []).map((d) => resolve(d))) {
    for (const entry of await entries(dir)) {
      const match = /^(.*)\.(spec|json)$/.exec(entry);
      if (!match || !isDockerName(match[1])) continue;
      const path = join(dir, entry);
      try {
        add({ name: match[1]!, source: { kind: "spec", location: path }, address: await readSpecFile(path, sources.allowTcp === true) });
      } catch (error) {
        problems.push({ path, problem: (error as Error).message, plugin: { name: match[1]!, source: { kind: "spec", location: path } } });
      }
    }
  }
  for (const dir of (sources.executableDirs ?? []).map((d) => resolve(d))) {
    for (const entry of await entries(dir)) {
      const path = join(dir, entry);
      const name = pluginNameOfFile(entry);
      if (entry.startsWith(".") || !isDockerName(name)) continue;
      if (await isExecutable(path)) add({ name, source: { kind: "executable", location: path }, address: undefined });
    }
  }
  return { plugins, problems };
}

/** Describes where `sources` look, for errors ("socket dirs /run/x; spec dirs /etc/x"). */
export function describeSources(sources: ExternalSources): string {
  const parts = [
    sources.socketDirs?.length && `socket dirs ${sources.socketDirs.join(", ")}`,
    sources.specDirs?.length && `spec dirs ${sources.specDirs.join(", ")}`,
    sources.executableDirs?.length && `executable dirs ${sources.executableDirs.join(", ")}`,
  ].filter(Boolean);
  return parts.length ? parts.join("; ") : "no plugin folders";
}
