/**
 * hookplugins quickstart: a small host that loads the plugins shipped in hookplugins/ and walks one container
 * through create, endpoint, start, update and daemon stop, printing at each hook point which plugins ran, in which
 * order, and what they changed.  Run it with `npm start` (or `npx tsx examples/quickstart/main.ts`).
 */
// Side-effect imports, as a generated plugin module would have them: each one registers its plugin(s).
import "../../hookplugins/envlimits/index.js";
import "../../hookplugins/helperprocess/index.js";
import "../../hookplugins/prestarthooks/early/index.js";
import "../../hookplugins/prestarthooks/late/index.js";

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import {
  createHost,
  defaultRegistry,
  PluginHookError,
  toOciHooks,
  type ContainerCreateConfig,
  type ContainerJSON,
  type Endpoint,
  type HookName,
  type PrestartHook,
} from "hookplugins";
import { helperProcess } from "../../hookplugins/helperprocess/index.js";
import { jsonDiff } from "./diff.js";
import { runPrestartHooks } from "./runHooks.js";
import { CallTrace, plannedOrder, ranSummary } from "./trace.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const print = (line = ""): void => {
  process.stdout.write(`${line}\n`);
};
/** A path relative to the repository when it is inside it; long inline scripts elided. */
const show = (arg: string): string => {
  if (arg.length > 60 && !arg.startsWith("/")) return "<script text>";
  return arg.startsWith(`${repoRoot}${sep}`) && repoRoot !== sep ? relative(repoRoot, arg) : arg;
};

// The trace hooks write to <bundle>/prestart.trace unless HOOKPLUGINS_HOOK_LOG says otherwise; the quickstart wants the bundle.
delete process.env["HOOKPLUGINS_HOOK_LOG"];

const host = createHost();
const trace = new CallTrace(host);
const bundle = mkdtempSync(join(tmpdir(), "hookplugins-quickstart-"));
const containerId = "qs0001";

/** Prints one hook point's header and planned order, runs `body`, then prints what ran and what `body` reports. */
async function step(title: string, hook: HookName, body: () => Promise<string[]>): Promise<void> {
  print();
  print(`== ${title}  [${hook}]`);
  print(`   order: ${plannedOrder(host, hook)}`);
  const changes = await body();
  print(`   ran:   ${ranSummary(trace.take())}`);
  for (const line of changes) print(`   ${line}`);
}

function queryHelper(socket: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let reply = "";
    connect(socket)
      .on("data", (chunk) => (reply += chunk.toString("utf8")))
      .on("end", () => resolve(reply.trim()))
      .on("error", reject);
  });
}

/** The network setup hook the host itself runs at priority 0: appends "network" to the bundle's trace file. */
const networkHook: PrestartHook = {
  priority: 0,
  path: "/bin/sh",
  args: ["-c", `state=$(cat); bundle=$(printf '%s' "$state" | sed -n 's/.*"bundle":"\\([^"]*\\)".*/\\1/p'); echo network >> "$bundle/prestart.trace"`],
  env: ["PATH=/usr/bin:/bin"],
};

function hookLabel(hook: PrestartHook): string {
  if (hook.path === networkHook.path && hook.args?.[1] === networkHook.args?.[1]) return "network (host builtin)";
  return `${hook.args?.at(-1) ?? "?"} (plugin)`;
}

async function walkthrough(): Promise<void> {
  print("hookplugins quickstart: one container through every hook point");
  print("registered plugins (registration order):");
  for (const p of defaultRegistry.list()) {
    print(`   ${p.type.padEnd(15)} ${p.name.padEnd(15)} priority ${String(p.priority).padStart(3)}  ${p.hooks.map((h) => h.split(".")[1]).join(", ")}`);
  }

  await step("daemon start", "DaemonPlugin.preStartHook", async () => {
    await host.daemon.preStart();
    const socket = helperProcess.readyInfo["socket"];
    const lines = [`helper process up: pid ${String(helperProcess.pid)}, command ${helperProcess.command().map(show).join(" ")}`];
    if (socket) lines.push(`helper answers on ${socket}: ${await queryHelper(socket)}`);
    return lines;
  });

  const config: ContainerCreateConfig = {
    Image: "busybox:latest",
    Cmd: ["sh", "-c", "echo hello"],
    Env: ["TZ=UTC", "HOOKPLUGINS_MEMORY=512m", "GREETING=hello", "HOOKPLUGINS_CPU_SHARES=512"],
    HostConfig: { NetworkMode: "bridge" },
  };
  let created = config;
  await step("container create", "ContainerPlugin.preCreate", async () => {
    const before = structuredClone(config);
    created = await host.container.preCreate(config);
    return jsonDiff(before, created);
  });

  await step("container create with a bad limit", "ContainerPlugin.preCreate", async () => {
    try {
      await host.container.preCreate({ Image: "busybox:latest", Env: ["HOOKPLUGINS_MEMORY=lots"] });
      return ["HOOKPLUGINS_MEMORY=lots was accepted (unexpected)"];
    } catch (error) {
      const who = error instanceof PluginHookError ? `${error.name} (plugin "${error.plugin}", hook ${error.hook})` : "error";
      return [`refused with ${who}:`, `  ${(error as Error).message}`];
    }
  });

  const endpoint: Endpoint = { Name: "bridge", Owner: containerId, Hostname: "quickstart", NetworkMode: "bridge" };
  await step("network endpoint", "ContainerPlugin.preCreateEndpoint", async () => {
    const before = structuredClone(endpoint);
    const after = await host.container.preCreateEndpoint(containerId, created.Env ?? [], endpoint);
    const diff = jsonDiff(before, after);
    return diff.length ? diff : ["endpoint unchanged"];
  });

  await step("container start", "ContainerPlugin.preStart", async () => {
    const container: ContainerJSON = { Id: containerId, Name: "quickstart", Config: created, HostConfig: created.HostConfig ?? {} };
    const merged = await host.container.preStart(container, { builtin: [networkHook] });
    const lines = ["merged prestart hooks (priority high to low; the host's network hook sits at 0):"];
    merged.forEach((hook, i) => lines.push(`  ${i + 1}. [${String(hook.priority).padStart(3)}] ${hookLabel(hook)}`));
    const oci = toOciHooks(merged);
    lines.push("as OCI config.json hooks.prestart (toOciHooks):");
    for (const hook of oci) {
      const args = hook.args.map(show);
      lines.push(`  {path: ${show(hook.path)}, args: [${args.join(", ")}]${hook.timeout ? `, timeout: ${hook.timeout}` : ""}}`);
    }
    runPrestartHooks(oci, { ociVersion: "1.0.2", id: containerId, status: "creating", pid: process.pid, bundle });
    const traced = readFileSync(join(bundle, "prestart.trace"), "utf8").split("\n").filter(Boolean);
    lines.push(`ran them like runc does; ${basename(bundle)}/prestart.trace: ${traced.join(" -> ")}`);
    return lines;
  });

  await step("container update (request body)", "ContainerPlugin.preUpdate", async () => {
    const body = JSON.stringify({ Env: ["HOOKPLUGINS_MEMORY=1g", "TZ=UTC"], RestartPolicy: { Name: "always" } });
    const out = await host.container.preUpdate(Readable.from([Buffer.from(body)]));
    const chunks: Buffer[] = [];
    for await (const chunk of out) chunks.push(Buffer.from(chunk as Uint8Array));
    const result = Buffer.concat(chunks).toString("utf8");
    return [`in  (${Buffer.byteLength(body)} bytes): ${body}`, `out (${Buffer.byteLength(result)} bytes): ${result}`];
  });

  await step("container updated", "ContainerPlugin.postUpdate", async () => {
    await host.container.postUpdate(join(bundle, "rootfs"), created.Env ?? []);
    return [];
  });

  const helperPid = helperProcess.pid;
  await step("daemon stop (reverse order)", "DaemonPlugin.preStopHook", async () => {
    await host.daemon.preStop();
    let gone = true;
    try {
      if (helperPid !== undefined) process.kill(helperPid, 0);
      gone = helperPid === undefined;
    } catch {
      gone = true;
    }
    const exit = helperProcess.lastExit;
    return [`helper pid ${String(helperPid)} ${gone ? "is gone" : "IS STILL RUNNING"} (exit code ${String(exit?.code)}, signal ${String(exit?.signal)})`];
  });
}

try {
  await walkthrough();
  print();
  print("done: every hook point ran; no helper process left behind.");
} catch (error) {
  process.exitCode = 1;
  print(`quickstart failed: ${error instanceof Error ? error.message : String(error)}`);
  await host.daemon.preStop().catch(() => undefined);
} finally {
  host.close();
  rmSync(bundle, { recursive: true, force: true });
}
