/**
 * The packed tarball as a new user gets it: what it holds, publint and arethetypeswrong, the install weight, its one
 * dependency (no gRPC package: the CRI relay speaks HTTP/2 itself, and hookplugins/cri's code loads only when asked
 * for), a hook run from fresh ESM, CommonJS and TypeScript (node16 and bundler resolution) projects, and the CLI
 * without esbuild. One build, one pack and one install for the whole file (about half a minute).
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { isBuiltin } from "node:module";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot, run } from "../cli/helpers.js";
import { criRelayMarker, filesHolding, runRecordingLoads } from "../support/loadedModules.js";
import { describeDocSnippets } from "./docSnippetsCompile.js";
import { folderBytes, packAndInstall, type PackedPackage } from "./packedPackage.js";

/** The text only a file holding the engine has: createHost's definition (a caller has only its name). */
const engineMarker = "function createHost(";

let pkg: PackedPackage;

beforeAll(async () => {
  pkg = await packAndInstall();
}, 240_000);

afterAll(async () => {
  await pkg?.remove();
});

const bin = (name: string): string => join(repoRoot, "node_modules", ".bin", name);
const tsc = join(repoRoot, "node_modules", "typescript", "bin", "tsc");

/** Writes `files` (path to content) under `dir`. */
async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, ".."), { recursive: true });
    await writeFile(join(dir, path), content);
  }
}

/** The modules `code` (a bundle) imports or requires: `from "x"`, `import "x"`, `import("x")`, `require("x")`. */
function importedModules(code: string): string[] {
  const found = new Set<string>();
  for (const pattern of [/\bfrom\s*["']([^"']+)["']/g, /\bimport\s*["']([^"']+)["']/g, /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g, /\brequire\s*\(\s*["']([^"']+)["']\s*\)/g]) {
    for (const match of code.matchAll(pattern)) found.add(match[1]!);
  }
  return [...found].sort();
}

/** A host that registers one ContainerPlugin adding a label, runs preCreate, and prints the labels. */
const hostBody = `
const registry = createRegistry();
registry.registerContainerPlugin({ name: "labeler", preCreate(_ctx, config) { return { ...config, Labels: { ...config.Labels, by: "labeler" } }; } });
const host = createHost({ registry });
const seen = [];
host.events.on("hookEnd", (event) => { seen.push(event.plugin + " " + event.hook); });
const config = await host.container.preCreate({ Image: "busybox" });
console.log(JSON.stringify({ labels: config.Labels, seen }));
`;

const expectedRun = { labels: { by: "labeler" }, seen: ["labeler ContainerPlugin.preCreate"] };

/** The TypeScript consumer's code: the hook run, plus compile-time checks of the shipped types. */
const typedHost = `import { createHost, createRegistry, defaultRegistry, PluginHookError, type ContainerCreateConfig, type CustomHostTypes, type DefaultHostTypes, type HookEndEvent, type HookErrorEvent, type HookName, type HookStartEvent, type Host, type HostEvents } from "hookplugins";
import { createCriProxy, type CriProxy } from "hookplugins/cri";
import { createDockerBridge } from "hookplugins/docker";
import { loadExternalPlugins, type ExternalPlugins } from "hookplugins/external";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(_proof?: T): void {}

// The event payloads, written out as the README documents them: the .d.ts (with typed-emitter inlined) must agree.
assertType<Equal<HookStartEvent, { readonly plugin: string; readonly hook: HookName }>>();
assertType<Equal<HookEndEvent, { readonly plugin: string; readonly hook: HookName; readonly durationMs: number }>>();
assertType<Equal<HookErrorEvent["error"], PluginHookError>>();
assertType<Equal<HookErrorEvent["durationMs"], number>>();
assertType<Equal<HostEvents["hookEnd"], (event: HookEndEvent) => void>>();

const registry = createRegistry();
registry.registerContainerPlugin({ name: "labeler", preCreate(_ctx, config) { return { ...config, Labels: { ...config.Labels, by: "labeler" } }; } });
const host = createHost({ registry });
type OnHookEnd = Parameters<typeof host.events.on<"hookEnd">>[1];
assertType<Equal<Parameters<OnHookEnd>[0], HookEndEvent>>();
assertType<Equal<Parameters<typeof host.events.emit<"hookError">>, [event: "hookError", event: HookErrorEvent]>>();
// @ts-expect-error not an event of a host
host.events.on("hookFinish", () => {});
// @ts-expect-error a hookEnd payload needs durationMs
host.events.emit("hookEnd", { plugin: "p", hook: "ContainerPlugin.preCreate" });
// @ts-expect-error Image is required
void host.container.preCreate({});

// The generic boundaries between the subpaths, checked against the shipped declarations: registries of every kind
// go into loadExternalPlugins, its result into createHost, a default host into createDockerBridge, a host of either
// kind into createCriProxy.
const external = await loadExternalPlugins(createRegistry(), { socketDirs: [] });
assertType<Equal<typeof external, ExternalPlugins<DefaultHostTypes>>>();
void (() => loadExternalPlugins(defaultRegistry, { socketDirs: [] }));
interface TenantConfig extends ContainerCreateConfig { Tenant: string }
type TenantTypes = CustomHostTypes<{ config: TenantConfig }>;
const tenantRegistry = createRegistry<TenantTypes>();
const tenantExternal = await loadExternalPlugins(tenantRegistry, { socketDirs: [] });
assertType<Equal<ReturnType<typeof createHost<TenantTypes>>, Host<TenantTypes>>>();
const tenantHost = createHost({ registry: tenantRegistry, external: tenantExternal });
assertType<Equal<typeof tenantHost, Host<TenantTypes>>>();
// @ts-expect-error external plugins loaded into a registry of other types
void (() => createHost({ registry: tenantRegistry, external }));
void (() => createDockerBridge({ host: createHost(), name: "hp", authz: true }));
assertType<Equal<Awaited<ReturnType<typeof createCriProxy>>, CriProxy>>();
void (() => createCriProxy({ host: createHost(), listen: "/run/hp/cri.sock", upstream: "unix:///run/containerd/containerd.sock" }));
void (() => createCriProxy({ host: tenantHost, listen: "/run/hp/cri.sock", upstream: "/run/containerd/containerd.sock", maxMessageBytes: 32 * 1024 * 1024 }));
// @ts-expect-error the runtime's address (upstream) is required
void (() => createCriProxy({ host: createHost(), listen: "/run/hp/cri.sock" }));
await tenantHost.close();
await external.close();

const seen: string[] = [];
host.events.on("hookEnd", (event) => { seen.push(event.plugin + " " + event.hook); });
const config = await host.container.preCreate({ Image: "busybox" });
console.log(JSON.stringify({ labels: config.Labels, seen }));
`;

function tsconfig(compilerOptions: Record<string, unknown>): string {
  return JSON.stringify({
    compilerOptions: {
      target: "ES2022",
      strict: true,
      outDir: "out",
      rootDir: "src",
      skipLibCheck: false,
      typeRoots: [join(repoRoot, "node_modules", "@types")],
      types: ["node"],
      ...compilerOptions,
    },
    include: ["src"],
  });
}

describe("the packed tarball", () => {
  it("holds the library, its types, LICENSE, NOTICE and CHANGELOG.md, and no example bundle", () => {
    for (const file of ["dist/index.js", "dist/index.cjs", "dist/index.d.ts", "dist/index.d.cts", "dist/esbuild.js", "dist/esbuild.cjs", "dist/cli.js", "dist/external.js", "dist/external.cjs", "dist/cri.js", "dist/cri.cjs", "dist/cri.d.ts", "dist/cri.d.cts", "esbuild.d.ts", "external.d.ts", "cri.d.ts", "LICENSE", "NOTICE", "CHANGELOG.md", "README.md"]) {
      expect(pkg.files).toContain(file);
    }
    expect(pkg.files.filter((f) => f.includes("minid") || f.startsWith("dist-examples"))).toEqual([]);
  });

  it("is built by its prepack script when a clean clone is packed", () => {
    expect(pkg.files).toEqual(expect.arrayContaining(["dist/index.js", "dist/cli.js", "dist/external.js", "dist/docker.js", "dist/cri.js"]));
  });

  it("holds no source maps, which would name source files it does not ship", () => {
    expect(pkg.files.filter((f) => f.endsWith(".map"))).toEqual([]);
  });

  it("shows only files it ships in the stack trace of a plugin's error, also under --enable-source-maps", async () => {
    const dir = join(pkg.consumers, "stack");
    await writeFiles(dir, {
      "package.json": JSON.stringify({ name: "stack-consumer", private: true, type: "module" }),
      "main.js": [
        `import { createHost, createRegistry } from "hookplugins";`,
        `const registry = createRegistry();`,
        `registry.registerContainerPlugin({ name: "thrower", async preCreate() { await null; throw new Error("no"); } });`,
        `const host = createHost({ registry });`,
        `try { await host.container.preCreate({ Image: "busybox" }); } catch (error) { console.log(error.stack); }`,
      ].join("\n"),
    });
    const result = await run(process.execPath, ["--enable-source-maps", "main.js"], dir);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('plugin "thrower" failed in ContainerPlugin.preCreate: no');
    const named = [...result.stdout.matchAll(/node_modules\/hookplugins\/([^:)\s]+)/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((file) => !existsSync(join(pkg.consumers, "node_modules", "hookplugins", file)))).toEqual([]);
  });

  it("passes publint", async () => {
    const result = await run(process.execPath, [bin("publint"), "--strict", pkg.stage], repoRoot);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).not.toMatch(/Errors:|Warnings:/);
  }, 60_000);

  it("passes arethetypeswrong in every resolution mode", async () => {
    const result = await run(process.execPath, [bin("attw"), pkg.tarball, "--format", "json"], repoRoot);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { analysis: { problems: unknown[] } };
    expect(report.analysis.problems).toEqual([]);
  }, 60_000);

  it("installs alone in at most 2 MB of node_modules: hookplugins and tapable, nothing else", async () => {
    const modules = join(pkg.consumers, "node_modules");
    const bytes = await folderBytes(modules);
    console.log(`node_modules of a tarball-only install: ${bytes} bytes; tarball ${(await readFile(pkg.tarball)).length} bytes`);
    expect(bytes).toBeLessThanOrEqual(2 * 1024 * 1024);
    const lock = JSON.parse(await readFile(join(modules, ".package-lock.json"), "utf8")) as { packages: Record<string, unknown> };
    expect(Object.keys(lock.packages).sort()).toEqual(["node_modules/hookplugins", "node_modules/tapable"]);
  });

  it("depends at run time on tapable alone: the CRI relay brings no gRPC package", async () => {
    const manifest = JSON.parse(await readFile(join(pkg.consumers, "node_modules", "hookplugins", "package.json"), "utf8")) as Record<string, unknown>;
    expect(Object.keys(manifest["dependencies"] as object)).toEqual(["tapable"]);
    expect(Object.keys(manifest["peerDependencies"] as object)).toEqual(["esbuild"]);
    expect(manifest["optionalDependencies"]).toBeUndefined();
    expect(manifest["bundleDependencies"] ?? manifest["bundledDependencies"]).toBeUndefined();
  });

  it("imports only Node's own modules and the package's own chunks from dist/cri.js, and only hookplugins and hookplugins/external besides them from dist/cri.cjs", async () => {
    const esm = importedModules(await readFile(join(pkg.stage, "dist/cri.js"), "utf8"));
    expect(esm.filter((name) => !isBuiltin(name) && !/^\.\/chunk-[\w-]+\.js$/.test(name))).toEqual([]);
    const cjs = importedModules(await readFile(join(pkg.stage, "dist/cri.cjs"), "utf8"));
    expect(cjs.filter((name) => !isBuiltin(name) && name !== "hookplugins" && name !== "hookplugins/external")).toEqual([]);
    expect(cjs).toContain("hookplugins/external");
  });

  it("holds the engine once per module format: one shared chunk for every ES module entry and the CLI, and dist/index.cjs for the CommonJS subpaths", async () => {
    const scripts = pkg.files.filter((f) => /^dist\/[^/]+\.(c|m)?js$/.test(f)).map((f) => join(pkg.stage, f));
    const holding = (await filesHolding(scripts, engineMarker)).map((file) => file.slice(file.lastIndexOf("/") + 1));
    expect(holding.sort()).toEqual([expect.stringMatching(/^chunk-[\w-]+\.js$/), "index.cjs"]);
    const chunk = `./${holding.find((name) => name.endsWith(".js"))}`;
    // each ES module entry reaches the engine through that chunk, directly or through a chunk that imports it
    const reaches = async (file: string, seen = new Set<string>()): Promise<boolean> => {
      for (const name of importedModules(await readFile(join(pkg.stage, "dist", file), "utf8")).filter((n) => n.startsWith("./"))) {
        if (name === chunk) return true;
        if (!seen.has(name) && (seen.add(name), await reaches(name, seen))) return true;
      }
      return false;
    };
    for (const entry of ["index.js", "external.js", "docker.js", "runtime.js", "cli.js"]) expect(await reaches(entry), entry).toBe(true);
  });

  it("has no file that imports a gRPC package", async () => {
    const scripts = pkg.files.filter((f) => /\.(c|m)?js$/.test(f));
    const grpc: string[] = [];
    for (const file of scripts) for (const name of importedModules(await readFile(join(pkg.stage, file), "utf8"))) if (/grpc|protobuf/i.test(name)) grpc.push(`${file}: ${name}`);
    expect(scripts.length).toBeGreaterThan(0);
    expect(grpc).toEqual([]);
  });

  it("loads none of the CRI relay's code when an ES module project imports hookplugins", async () => {
    const dir = join(pkg.consumers, "esm-main-only");
    await writeFiles(dir, {
      "package.json": JSON.stringify({ name: "esm-main-only-consumer", private: true, type: "module" }),
      "main.js": `import { createHost, createRegistry } from "hookplugins";\n${hostBody}`,
    });
    const result = await runRecordingLoads(["main.js"], dir);
    expect(result.code, result.stderr).toBe(0);
    const library = join(pkg.consumers, "node_modules", "hookplugins");
    const loaded = result.loaded.filter((file) => file.startsWith(library)).map((file) => file.slice(library.length + 1));
    expect(loaded[0]).toBe("dist/index.js");
    // the rest are chunks the library shares with the subpaths: no subpath's or the CLI's own file
    expect(loaded.slice(1).filter((file) => !/^dist\/chunk-[\w-]+\.js$/.test(file))).toEqual([]);
    expect(await filesHolding(result.loaded, criRelayMarker)).toEqual([]);
  });

  it("loads none of the CRI relay's code when a CommonJS project requires hookplugins", async () => {
    const dir = join(pkg.consumers, "cjs-main-only");
    await writeFiles(dir, {
      "package.json": JSON.stringify({ name: "cjs-main-only-consumer", private: true, type: "commonjs" }),
      "main.js": `const { createHost } = require("hookplugins");\ncreateHost();\nconsole.log(JSON.stringify(Object.keys(require.cache)));`,
    });
    const result = await run(process.execPath, ["main.js"], dir);
    expect(result.code, result.stderr).toBe(0);
    const loaded = JSON.parse(result.stdout) as string[];
    const library = join(pkg.consumers, "node_modules", "hookplugins");
    expect(loaded.filter((file) => file.startsWith(library))).toEqual([join(library, "dist", "index.cjs")]);
    expect(await filesHolding(loaded, criRelayMarker)).toEqual([]);
  });

  it("brings no package with an install script", async () => {
    const lock = JSON.parse(await readFile(join(pkg.consumers, "node_modules", ".package-lock.json"), "utf8")) as {
      packages: Record<string, { hasInstallScript?: boolean }>;
    };
    for (const name of Object.keys(lock.packages)) {
      const manifest = JSON.parse(await readFile(join(pkg.consumers, name, "package.json"), "utf8")) as { scripts?: Record<string, string> };
      expect({ name, hasInstallScript: lock.packages[name]!.hasInstallScript ?? false }).toEqual({ name, hasInstallScript: false });
      expect(Object.keys(manifest.scripts ?? {}).filter((s) => ["preinstall", "install", "postinstall", "prepare"].includes(s))).toEqual([]);
    }
  });

  it("runs a hook from an ES module project, and loads hookplugins/esbuild without esbuild installed", async () => {
    const dir = join(pkg.consumers, "esm");
    await writeFiles(dir, {
      "package.json": JSON.stringify({ name: "esm-consumer", private: true, type: "module" }),
      "main.js": `import { createHost, createRegistry } from "hookplugins";\nimport { hookpluginsEsbuildPlugin } from "hookplugins/esbuild";\nif (typeof hookpluginsEsbuildPlugin !== "function") throw new Error("no esbuild plugin");\n${hostBody}`,
    });
    const result = await run(process.execPath, ["main.js"], dir);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(expectedRun);
  });

  it("calls an external plugin served by hookplugins/external from an ES module project", async () => {
    const dir = join(pkg.consumers, "esm-external");
    await writeFiles(dir, {
      "package.json": JSON.stringify({ name: "esm-external-consumer", private: true, type: "module" }),
      "main.js": [
        `import { mkdtempSync, rmSync } from "node:fs";`,
        `import { tmpdir } from "node:os";`,
        `import { join } from "node:path";`,
        `import { createHost, createRegistry } from "hookplugins";`,
        `import { loadExternalPlugins, serve } from "hookplugins/external";`,
        `const sockets = mkdtempSync(join(tmpdir(), "hookplugins-packed-"));`,
        `const server = await serve({ name: "remote", preCreate: (_ctx, config) => ({ ...config, Labels: { remote: "yes" } }) }, { socket: join(sockets, "remote.sock"), handleSignals: false });`,
        `const registry = createRegistry();`,
        `const external = await loadExternalPlugins(registry, { socketDirs: [sockets] });`,
        `const host = createHost({ registry, external, timeoutMs: 5000 });`,
        `const config = await host.container.preCreate({ Image: "busybox" });`,
        `console.log(JSON.stringify({ labels: config.Labels, source: host.explain()["ContainerPlugin.preCreate"][0].source?.kind }));`,
        `await host.close();`,
        `await server.close();`,
        `rmSync(sockets, { recursive: true, force: true });`,
      ].join("\n"),
    });
    const result = await run(process.execPath, ["main.js"], dir);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ labels: { remote: "yes" }, source: "socket" });
  });

  it("serves a CRI relay from hookplugins/cri in an ES module project, which answers a call while containerd is away with UNAVAILABLE", async () => {
    const dir = join(pkg.consumers, "esm-cri");
    await writeFiles(dir, {
      "package.json": JSON.stringify({ name: "esm-cri-consumer", private: true, type: "module" }),
      "main.js": [
        `import { mkdtempSync, rmSync, statSync } from "node:fs";`,
        `import { connect } from "node:http2";`,
        `import { tmpdir } from "node:os";`,
        `import { join } from "node:path";`,
        `import { createHost } from "hookplugins";`,
        `import { createCriProxy } from "hookplugins/cri";`,
        `const dir = mkdtempSync(join(tmpdir(), "hookplugins-packed-cri-"));`,
        `const host = createHost();`,
        `const proxy = await createCriProxy({ host, listen: join(dir, "cri.sock"), upstream: "unix://" + join(dir, "containerd.sock"), log: () => {} });`,
        `const mode = (statSync(join(dir, "cri.sock")).mode & 0o777).toString(8);`,
        `const session = connect("http://localhost", { path: join(dir, "cri.sock") });`,
        `const call = session.request({ ":method": "POST", ":path": "/runtime.v1.RuntimeService/Version", "content-type": "application/grpc", te: "trailers" });`,
        `let status;`,
        `const take = (headers) => { if (headers["grpc-status"] !== undefined) status = { code: headers["grpc-status"], message: decodeURIComponent(headers["grpc-message"] ?? "") }; };`,
        `call.on("response", take); call.on("trailers", take); call.on("data", () => {});`,
        `call.end(Buffer.from([0, 0, 0, 0, 0]));`,
        `await new Promise((resolve) => call.on("close", resolve));`,
        `session.close();`,
        `await proxy.close({ graceMs: 1000 });`,
        `await host.close();`,
        `rmSync(dir, { recursive: true, force: true });`,
        `console.log(JSON.stringify({ address: proxy.address.startsWith("unix://" + dir), mode, status }));`,
      ].join("\n"),
    });
    const result = await run(process.execPath, ["main.js"], dir);
    expect(result.code, result.stderr).toBe(0);
    const printed = JSON.parse(result.stdout) as { address: boolean; mode: string; status: { code: string; message: string } };
    expect(printed).toMatchObject({ address: true, mode: "600", status: { code: "14" } });
    expect(printed.status.message).toMatch(/^hookplugins cri-proxy: the container runtime at unix:\/\/.*containerd\.sock is not answering/);
  });

  it("loads hookplugins/cri from a CommonJS project, whose createCriProxy refuses a relative socket with CriProxyError", async () => {
    const dir = join(pkg.consumers, "cjs-cri");
    await writeFiles(dir, {
      "package.json": JSON.stringify({ name: "cjs-cri-consumer", private: true, type: "commonjs" }),
      "main.js": [
        `const { createHost } = require("hookplugins");`,
        `const { createCriProxy, CriProxyError, parseCriUpstream } = require("hookplugins/cri");`,
        `createCriProxy({ host: createHost(), listen: "cri.sock", upstream: "unix:///run/containerd/containerd.sock" }).then(`,
        `  () => { console.error("started"); process.exit(1); },`,
        `  (error) => console.log(JSON.stringify({ criProxyError: error instanceof CriProxyError, message: error.message, upstream: parseCriUpstream("unix:///run/containerd/containerd.sock") })),`,
        `);`,
      ].join("\n"),
    });
    const result = await run(process.execPath, ["main.js"], dir);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      criProxyError: true,
      message: 'listen must be an absolute socket path (or unix:///path), got "cri.sock"',
      upstream: "/run/containerd/containerd.sock",
    });
  });

  it("runs a hook from a CommonJS project", async () => {
    const dir = join(pkg.consumers, "cjs");
    await writeFiles(dir, {
      "package.json": JSON.stringify({ name: "cjs-consumer", private: true, type: "commonjs" }),
      "main.js": `const { createHost, createRegistry } = require("hookplugins");\nconst { hookpluginsEsbuildPlugin } = require("hookplugins/esbuild");\nif (typeof hookpluginsEsbuildPlugin !== "function") throw new Error("no esbuild plugin");\n(async () => {${hostBody}})().catch((e) => { console.error(e); process.exit(1); });`,
    });
    const result = await run(process.execPath, ["main.js"], dir);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(expectedRun);
  });

  for (const [mode, compilerOptions] of [
    ["node16", { module: "node16", moduleResolution: "node16" }],
    ["bundler", { module: "esnext", moduleResolution: "bundler" }],
  ] as const) {
    it(`type-checks and runs a hook from a TypeScript project with moduleResolution ${mode}, with the event types unchanged`, async () => {
      const dir = join(pkg.consumers, `ts-${mode}`);
      await writeFiles(dir, {
        "package.json": JSON.stringify({ name: `ts-${mode}-consumer`, private: true, type: "module" }),
        "tsconfig.json": tsconfig(compilerOptions),
        "src/main.ts": typedHost,
      });
      const compiled = await run(process.execPath, [tsc, "-p", "."], dir);
      expect(compiled.code, compiled.stdout + compiled.stderr).toBe(0);
      const result = await run(process.execPath, ["out/main.js"], dir);
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual(expectedRun);
    }, 60_000);
  }
});

describeDocSnippets(() => pkg);

describe("the installed CLI without esbuild", () => {
  const plugin = {
    "plugins/labeler/package.json": JSON.stringify({
      name: "labeler",
      private: true,
      type: "module",
      hookplugin: { name: "labeler", version: "1.0.0", engines: { hookplugins: ">=0.1.0" } },
    }),
    "plugins/labeler/index.js": `import { registerContainerPlugin } from "hookplugins";\nregisterContainerPlugin({ name: "labeler", priority: 7, preCreate() {} });\n`,
    "plugins/typed/package.json": JSON.stringify({
      name: "typed",
      private: true,
      type: "module",
      hookplugin: { name: "typed", version: "1.0.0", engines: { hookplugins: ">=0.1.0" } },
    }),
    "plugins/typed/index.ts": `import { registerContainerPlugin } from "hookplugins";\nregisterContainerPlugin({ name: "typed", preCreate(): void {} });\n`,
  };
  const manifest = `${JSON.stringify({ plugins: [], generated: false }, null, 2)}\n`;

  async function project(name: string): Promise<string> {
    const dir = join(pkg.consumers, name);
    await writeFiles(dir, { "hookplugins.json": manifest, ...plugin });
    return dir;
  }
  const cli = (cwd: string, ...args: string[]) => run(process.execPath, [join(pkg.consumers, "node_modules", "hookplugins", "dist", "cli.js"), ...args], cwd);

  it("is really without esbuild in this install", () => {
    expect(existsSync(join(pkg.consumers, "node_modules", "esbuild"))).toBe(false);
  });

  it("lists plugins and prints its version", async () => {
    const dir = await project("cli-list");
    const listed = await cli(dir, "plugin", "list");
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain("There are no plugins installed.");
    expect((await cli(dir, "--version")).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("adds, inspects and explains a JavaScript plugin, importing it without bundling", async () => {
    const dir = await project("cli-js");
    const added = await cli(dir, "module", "--add-plugin", "./plugins/labeler");
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(await readFile(join(dir, "hookplugins.json"), "utf8")).plugins).toEqual(["./plugins/labeler"]);
    const inspected = await cli(dir, "plugin", "inspect", "labeler");
    expect(inspected.code, inspected.stderr).toBe(0);
    expect(inspected.stdout).toMatch(/ContainerPlugin/);
    const explained = await cli(dir, "explain", "preCreate");
    expect(explained.code, explained.stderr).toBe(0);
    expect(explained.stdout).toMatch(/7\s+labeler\s+enabled/);
  });

  it("loads cri-proxy's relay from the package's own hookplugins/cri, with no gRPC package installed, as far as refusing a TCP upstream", async () => {
    const dir = await project("cli-cri");
    const result = await cli(dir, "cri-proxy", "--listen", join(dir, "cri.sock"), "--upstream", "tcp://127.0.0.1:10010");
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'hookplugins: error: --upstream: the runtime address "tcp://127.0.0.1:10010" is not a UNIX socket; give unix:///run/containerd/containerd.sock or an absolute path\nhookplugins: run `hookplugins cri-proxy --help` for usage\n',
    );
    expect(existsSync(join(pkg.consumers, "node_modules", "@grpc"))).toBe(false);
  });

  for (const args of [
    ["plugin", "compile", "plugins/labeler"],
    ["module", "--add-plugin", "./plugins/typed"],
    ["plugin", "inspect", "./plugins/typed"],
  ]) {
    it(`exits 1 from \`${args.join(" ")}\` saying to run \`npm install -D esbuild\`, and changes nothing`, async () => {
      const dir = await project(`cli-${args[0]}`);
      const result = await cli(dir, ...args);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("npm install -D esbuild");
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(await readFile(join(dir, "hookplugins.json"), "utf8")).toBe(manifest);
      expect(existsSync(join(dir, "labeler.hookplugin.js"))).toBe(false);
    });
  }
});
