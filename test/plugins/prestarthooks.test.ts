import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  createHost,
  createRegistry,
  PluginHookError,
  toOciHooks,
  type ContainerPlugin,
  type Host,
  type OciHook,
  type PrestartHook,
} from "hookplugins";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { prestartEarlyPlugin } from "../../hookplugins/prestarthooks/early/index.js";
import { prestartLatePlugin } from "../../hookplugins/prestarthooks/late/index.js";
import { bundleTraceFile, createTracePlugin, traceHookCommand, traceHookScript } from "../../hookplugins/prestarthooks/traceHook.js";
import { traceHookSource } from "../../hookplugins/prestarthooks/traceHookSource.js";

const dir = mkdtempSync(join(tmpdir(), "hookplugins-prestart-test-"));
let bundleCount = 0;
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  delete process.env["HOOKPLUGINS_HOOK_LOG"];
});

/** A fresh bundle directory. */
function newBundle(): string {
  bundleCount += 1;
  return mkdtempSync(join(dir, `bundle${bundleCount}-`));
}

function hostWith(...plugins: ContainerPlugin[]): Host {
  const registry = createRegistry();
  for (const plugin of plugins) registry.registerContainerPlugin(plugin);
  return createHost({ registry });
}

/** Runs one OCI hook the way runc does: the state JSON on stdin, only the hook's own environment. */
function runHook(hook: OciHook, state: string): { status: number | null; stderr: string } {
  const env = Object.fromEntries((hook.env ?? []).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
  const result = spawnSync(hook.path, hook.args.slice(1), { argv0: hook.args[0], input: state, env, encoding: "utf8" });
  return { status: result.status, stderr: result.stderr };
}

function ociState(bundle: string, pretty = false): string {
  const state = { ociVersion: "1.0.2", id: "c1", status: "creating", pid: 4242, bundle, annotations: {} };
  return JSON.stringify(state, null, pretty ? 2 : undefined);
}

function traceOf(file: string): string[] {
  return readFileSync(file, "utf8").split("\n").filter(Boolean);
}

const networkHook: PrestartHook = {
  priority: 0,
  path: "/bin/sh",
  args: ["-c", `printf 'network\\n' >> "$HOOKPLUGINS_HOOK_LOG"`],
};

describe("the shipped hook script", () => {
  it("is an executable file at an absolute path next to the plugin modules", () => {
    expect(isAbsolute(traceHookScript)).toBe(true);
    expect(dirname(traceHookScript)).toBe(fileURLToPath(new URL("../../hookplugins/prestarthooks", import.meta.url)));
    expect(statSync(traceHookScript).mode & 0o111).toBe(0o111);
  });

  it("appends its name to <bundle>/prestart.trace, reading the bundle from the OCI state on stdin", async () => {
    const bundle = newBundle();
    const [hook] = toOciHooks(await hostWith(prestartEarlyPlugin).container.preStart({}));
    expect(runHook(hook!, ociState(bundle)).status).toBe(0);
    expect(traceOf(join(bundle, bundleTraceFile))).toEqual(["prestart-early"]);
  });

  it("reads the bundle from pretty-printed state JSON too", async () => {
    const bundle = newBundle();
    const [hook] = toOciHooks(await hostWith(prestartLatePlugin).container.preStart({}));
    expect(runHook(hook!, ociState(bundle, true)).status).toBe(0);
    expect(traceOf(join(bundle, bundleTraceFile))).toEqual(["prestart-late"]);
  });

  it("appends to HOOKPLUGINS_HOOK_LOG instead when the daemon sets it", async () => {
    const bundle = newBundle();
    const log = join(dir, "hook-log-env.txt");
    process.env["HOOKPLUGINS_HOOK_LOG"] = log;
    const [hook] = toOciHooks(await hostWith(prestartEarlyPlugin).container.preStart({}));
    expect(runHook(hook!, ociState(bundle)).status).toBe(0);
    expect(traceOf(log)).toEqual(["prestart-early"]);
    expect(existsSync(join(bundle, bundleTraceFile))).toBe(false);
  });

  it("has an embedded copy (used when the plugin is bundled away from the file) equal to the file", () => {
    expect(traceHookSource).toBe(readFileSync(traceHookScript, "utf8"));
  });

  it("runs from its embedded copy through /bin/sh -c when a custom build moved the plugin away from the file", () => {
    const bundle = newBundle();
    const command = traceHookCommand(undefined, join(dir, "moved-away", "trace-hook.sh"));
    const [embedded] = toOciHooks([{ priority: 0, path: command.path, args: [...command.args, "from-copy"], env: ["PATH=/usr/bin:/bin"] }]);
    expect(command.path).toBe("/bin/sh");
    expect(runHook(embedded!, ociState(bundle)).status).toBe(0);
    expect(traceOf(join(bundle, bundleTraceFile))).toEqual(["from-copy"]);
  });

  it("fails with a message when it has neither a log file nor a bundle", async () => {
    const [hook] = toOciHooks(await hostWith(prestartEarlyPlugin).container.preStart({}));
    const result = runHook(hook!, '{"ociVersion":"1.0.2","id":"c1"}');
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/HOOKPLUGINS_HOOK_LOG is not set and the OCI state on stdin has no bundle/);
  });
});

describe("prestart-early and prestart-late", () => {
  it("prestart-early asks for the script with its name at priority 10", async () => {
    const hooks = await hostWith(prestartEarlyPlugin).container.preStart({});
    expect(hooks).toEqual([expect.objectContaining({ priority: 10, path: traceHookScript, args: ["prestart-early"] })]);
  });

  it("prestart-late asks for the script with its name at priority -5", async () => {
    const hooks = await hostWith(prestartLatePlugin).container.preStart({});
    expect(hooks).toEqual([expect.objectContaining({ priority: -5, path: traceHookScript, args: ["prestart-late"] })]);
  });

  it("give their hooks a PATH, since runtimes run hooks with only the listed environment", async () => {
    const [hook] = await hostWith(prestartEarlyPlugin).container.preStart({});
    expect(hook?.env?.some((e) => e.startsWith("PATH=/"))).toBe(true);
  });

  it("run before and after a builtin network hook at 0 when the runtime runs the merged list", async () => {
    const log = join(dir, "merged-order.txt");
    process.env["HOOKPLUGINS_HOOK_LOG"] = log;
    // registered late first: only the priorities can produce the right order
    const builtin = [{ ...networkHook, env: [`HOOKPLUGINS_HOOK_LOG=${log}`] }];
    const merged = await hostWith(prestartLatePlugin, prestartEarlyPlugin).container.preStart({}, { builtin });
    for (const hook of toOciHooks(merged)) expect(runHook(hook, ociState(newBundle())).status).toBe(0);
    expect(traceOf(log)).toEqual(["prestart-early", "network", "prestart-late"]);
  });

  it("fail preStart with a PluginHookError naming the script when it is missing", async () => {
    const broken = createTracePlugin({ name: "broken-trace", priority: 1, description: "test", script: join(dir, "no-such-hook.sh") });
    const error: unknown = await hostWith(broken).container.preStart({}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PluginHookError);
    expect((error as Error).message).toMatch(/no-such-hook\.sh is missing or not executable/);
  });
});
