/**
 * Load on loopback: one TLS plugin process (`hookplugins serve --tls-*`) serving 8 host processes with 64 concurrent
 * callers in all, for a fixed number of calls, each carrying a unique id the plugin records. The plugin is killed
 * (SIGKILL) part-way and restarted on the same port. Calls fail only while it is down, each with a clear error and
 * none hanging; after it returns, none is lost and none is answered twice. Figures are printed, never asserted.
 */
import { spawn } from "node:child_process";
import { copyFile, readFile, writeFile } from "node:fs/promises";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeWithTools, toolPath } from "../support/tools.js";
import { builtPackage, makeProject, removeTemporaryFolders, writePlugin } from "../cli/helpers.js";
import { sleep, waitFor } from "./helpers.js";
import { makePki, type TestPki } from "./tlsCerts.js";
import { killServeProcesses, startServe } from "../cli/serveProcess.js";

const hosts = 8;
const callersPerHost = 8;
const callsPerHost = 750;
const total = hosts * callsPerHost;
const callBoundMs = 10_000;

/** One call as a host process reports it. */
interface CallResult {
  readonly id: string;
  readonly start: number;
  readonly end: number;
  readonly ok: boolean;
  readonly kind?: string;
  readonly message?: string;
}

const hostScript = join(dirname(fileURLToPath(import.meta.url)), "fixtures", "tlsFleetHost.mjs");

/** The plugin: records each id it answers in $FLEET_LOG, and echoes it so a host can tell its own answer. */
const fleetPlugin = {
  manifest: { name: "fleet", version: "1.0.0", description: "records the ids it answers", author: "Test Author", engines: { hookplugins: ">=0.1.0" } },
  source: [
    `import { appendFileSync } from "node:fs";`,
    `import { registerContainerPlugin } from "hookplugins";`,
    `const log = process.env.FLEET_LOG;`,
    `registerContainerPlugin({ name: "fleet", preCreate(_ctx, config) {`,
    `  const id = config.Env[0].slice("ID=".length);`,
    `  appendFileSync(log, id + "\\n");`,
    `  config.Env = [...config.Env, "ANSWERED=" + id];`,
    `} });`,
    "",
  ].join("\n"),
};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Runs one host process; resolves with its calls. */
function runHost(root: string, spec: string, index: number): Promise<CallResult[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, "host.mjs"), spec, String(callersPerHost), String(callsPerHost), `h${index}`], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c) => (out += String(c)));
    child.stderr.on("data", (c) => (err += String(c)));
    child.once("exit", (code) => {
      if (code !== 0) return reject(new Error(`host ${index} exited with ${code}: ${err}`));
      resolve(out.trim().split("\n").map((line) => JSON.parse(line) as CallResult));
    });
  });
}

const idsIn = (file: string): string[] => (existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : []);

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

describeWithTools(["openssl"], "a TLS plugin serving a fleet of hosts", () => {
  let root: string;
  let pki: TestPki;
  beforeAll(async () => {
    await builtPackage();
    root = await makeProject();
    await writePlugin(root, "plugins/fleet", fleetPlugin);
    await copyFile(hostScript, join(root, "host.mjs"));
    pki = await makePki(root, toolPath("openssl"));
  }, 180_000);
  afterAll(async () => {
    killServeProcesses();
    await removeTemporaryFolders();
  });

  it("fails calls only while the plugin is down, each clearly and none hanging, and loses or repeats none after it returns", async () => {
    const port = await freePort();
    const flags = ["./plugins/fleet", "--port", String(port), "--tls-cert", pki.server.certFile, "--tls-key", pki.server.keyFile, "--tls-ca", pki.ca.certFile];
    const logs = [join(root, "answered-1.log"), join(root, "answered-2.log")];
    const first = await startServe(root, flags, { FLEET_LOG: logs[0]! });
    const spec = join(root, "fleet.json");
    const address = `https://127.0.0.1:${port}`;
    await writeFile(spec, JSON.stringify({ Name: "fleet", Addr: address, TLSConfig: { CAFile: pki.ca.certFile, CertFile: pki.client.certFile, KeyFile: pki.client.keyFile } }));

    const began = Date.now();
    const running = Promise.all(Array.from({ length: hosts }, (_, i) => runHost(root, spec, i)));
    running.catch(() => undefined);
    await waitFor(() => idsIn(logs[0]!).length >= total / 3, 40_000, "a third of the calls to be answered");
    const killedAt = Date.now();
    first.child.kill("SIGKILL");
    expect(await first.exit).toBe("SIGKILL");
    await sleep(300); // down for a while: callers keep calling meanwhile
    await startServe(root, flags, { FLEET_LOG: logs[1]! });
    const upAt = Date.now();
    const results = (await running).flat();
    const ended = Date.now();

    const ok = results.filter((r) => r.ok);
    const failed = results.filter((r) => !r.ok);
    const latencies = ok.map((r) => r.end - r.start).sort((a, b) => a - b);
    console.log(
      [
        `TLS fleet: ${hosts} host processes, ${hosts * callersPerHost} concurrent callers, ${total} calls in ${ended - began} ms`,
        `  throughput ${Math.round((ok.length / (ended - began)) * 1000)} answered calls/s; latency p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms`,
        `  plugin down ${upAt - killedAt} ms (SIGKILL to ready again): ${failed.length} calls failed (${failed.filter((r) => r.kind === "connect").length} connect, ${failed.filter((r) => r.kind === "closed").length} closed)`,
      ].join("\n"),
    );

    // a fixed number of calls, every one settled within the bound (none hung)
    expect(results).toHaveLength(total);
    expect(new Set(results.map((r) => r.id)).size).toBe(total);
    expect(results.filter((r) => r.end - r.start >= callBoundMs)).toEqual([]);
    // failures: only while the plugin was down, each a connect or closed error naming the plugin's address
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.filter((r) => r.end < killedAt || r.start > upAt)).toEqual([]);
    expect(failed.filter((r) => (r.kind !== "connect" && r.kind !== "closed") || !r.message!.includes(address))).toEqual([]);
    // after it returned, every call was answered
    expect(results.filter((r) => r.start > upAt && !r.ok)).toEqual([]);
    expect(ok.filter((r) => r.start > upAt).length).toBeGreaterThan(0);
    // none answered twice; every answered call recorded; a recorded call that failed was cut off by the kill
    const answered = [...idsIn(logs[0]!), ...idsIn(logs[1]!)];
    expect(answered.length - new Set(answered).size).toBe(0);
    const recorded = new Set(answered);
    expect(ok.filter((r) => !recorded.has(r.id))).toEqual([]);
    const secondLog = new Set(idsIn(logs[1]!));
    expect(failed.filter((r) => recorded.has(r.id) && (r.kind !== "closed" || secondLog.has(r.id)))).toEqual([]);
    expect(await readFile(logs[1]!, "utf8")).not.toBe("");
  }, 90_000);
});
