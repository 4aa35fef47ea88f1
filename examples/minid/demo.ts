/**
 * The hookplugins demo (`npm start`): starts minid with the plugins compiled in through the generated
 * module, runs a busybox container through the docker CLI (or plain HTTP when there is no docker CLI),
 * prints every hook point as it fires, then sends itself SIGTERM and shuts the daemon down cleanly.
 * Without root or runc (or with --dry-run), minid runs in dry-run mode: it writes the OCI bundle and prints what it would run.
 */
import "./src/plugins.generated.js";
import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHost } from "hookplugins";
import { startDaemon } from "./src/daemon.js";
import { traceHost } from "./src/traceHost.js";

const print = (line: string): void => void process.stdout.write(`${line}\n`);
const dockerCli = ["/usr/local/bin/docker", "/usr/bin/docker"].find((p) => existsSync(p));

function docker(socketPath: string, args: string[]): Promise<string> {
  print(`\n$ docker ${args.map((a) => (/[\s;$>]/.test(a) ? `'${a}'` : a)).join(" ")}`);
  return new Promise((resolve) => {
    execFile(dockerCli ?? "docker", args, { env: { ...process.env, DOCKER_HOST: `unix://${socketPath}` } }, (err, stdout, stderr) => {
      const out = `${stdout}${stderr}`.trimEnd();
      if (out) print(out.replace(/^/gm, "  "));
      if (err) print(`  (exit ${String(err.code)})`);
      resolve(stdout.trim());
    });
  });
}

function http(socketPath: string, method: string, path: string, body?: unknown): Promise<string> {
  print(`\n> ${method} ${path}${body ? ` ${JSON.stringify(body)}` : ""}`);
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers: { "Content-Type": "application/json" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8").replace(/[\x00-\x08]/g, "");
        print(`  ${res.statusCode ?? 0} ${text.slice(0, 300)}`);
        resolve(text);
      });
    });
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

async function runContainer(socketPath: string, stateDir: string, busyboxRootfs: string): Promise<void> {
  const script = "echo hello from busybox; cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null; ls /data";
  const env = ["-e", "HOOKPLUGINS_MEMORY=512m", "-e", "HOOKPLUGINS_CPU_SHARES=512"];
  let id: string;
  if (dockerCli) {
    await docker(socketPath, ["version", "--format", "client API {{.Client.APIVersion}}, server {{.Server.Version}} (API {{.Server.APIVersion}})"]);
    await docker(socketPath, ["volume", "create", "demo-data"]);
    id = await docker(socketPath, ["create", "--name", "demo", ...env, "-v", "demo-data:/data", "busybox", "sh", "-c", script]);
    await docker(socketPath, ["start", "demo"]);
    await docker(socketPath, ["wait", "demo"]);
    await docker(socketPath, ["logs", "demo"]);
    await docker(socketPath, ["inspect", "-f", "Memory={{.HostConfig.Memory}} CpuShares={{.HostConfig.CpuShares}} State={{.State.Status}}", "demo"]);
    await docker(socketPath, ["update", "--cpu-shares", "256", "demo"]);
    const archive = join(stateDir, "rootfs.tar");
    execFileSync("tar", ["-C", busyboxRootfs, "-cf", archive, "."]);
    await docker(socketPath, ["import", archive, "demo-image:1"]);
  } else {
    print("(no docker CLI found: talking HTTP to the socket directly)");
    await http(socketPath, "GET", "/version");
    await http(socketPath, "POST", "/volumes/create", { Name: "demo-data" });
    const created = await http(socketPath, "POST", "/containers/create?name=demo", {
      Image: "busybox",
      Cmd: ["sh", "-c", script],
      Env: ["HOOKPLUGINS_MEMORY=512m", "HOOKPLUGINS_CPU_SHARES=512"],
      HostConfig: { Binds: ["demo-data:/data"] },
    });
    id = (JSON.parse(created) as { Id: string }).Id;
    await http(socketPath, "POST", "/containers/demo/start");
    await http(socketPath, "POST", "/containers/demo/wait");
    await http(socketPath, "GET", "/containers/demo/logs?stdout=1&stderr=1");
    await http(socketPath, "POST", "/containers/demo/update", { CpuShares: 256 });
  }
  const config = JSON.parse(await readFile(join(stateDir, "containers", id, "bundle", "config.json"), "utf8")) as {
    hooks?: { prestart?: Array<{ path: string; args?: string[] }> };
    linux: { resources: unknown };
  };
  print("\nOCI bundle written by minid:");
  print(`  linux.resources = ${JSON.stringify(config.linux.resources)}`);
  for (const hook of config.hooks?.prestart ?? []) print(`  hooks.prestart: ${[hook.path, ...(hook.args ?? []).slice(1)].join(" ").slice(0, 100)}`);
  const trace = join(stateDir, "containers", id, "bundle", "prestart.trace");
  if (existsSync(trace)) {
    const order = (await readFile(trace, "utf8")).split("\n").filter(Boolean);
    print(`  runc ran the prestart hooks in this order: ${order.join(" -> ")}`);
  }
  if (dockerCli) await docker(socketPath, ["rm", "demo"]);
  else await http(socketPath, "DELETE", "/containers/demo");
}

async function demo(): Promise<void> {
  const stateDir = await mkdtemp(join(tmpdir(), "minid-demo-"));
  const socketPath = join(stateDir, "minid.sock");
  const host = createHost();
  host.events.on("hookStart", ({ plugin, hook }) => print(`      plugin "${plugin}" runs ${hook}`));
  host.events.on("hookError", ({ plugin, hook, error }) => print(`      plugin "${plugin}" failed in ${hook}: ${String(error)}`));
  const traced = traceHost(host, (hook) => print(`  ⚓ hook point ${hook}`));
  print("minid demo: starting the daemon with the plugins compiled in by src/plugins.generated.ts");
  const dryRun = process.argv.includes("--dry-run") ? true : "auto";
  const daemon = await startDaemon({ host: traced, socketPath, stateDir, dryRun, log: (line) => print(`  ${line}`) });
  print(`minid: serving on unix://${socketPath} (runtime: ${daemon.context.runtime.name})`);
  const stopped = new Promise<void>((resolve, reject) => {
    process.once("SIGTERM", () => {
      print("\nminid: SIGTERM received, shutting down");
      daemon.stop().then(resolve, reject);
    });
  });
  try {
    await runContainer(socketPath, stateDir, daemon.context.images.resolve("busybox")?.rootfs ?? stateDir);
  } finally {
    process.kill(process.pid, "SIGTERM");
    await stopped;
    host.close();
    await rm(stateDir, { recursive: true, force: true });
  }
  print("minid: stopped cleanly");
}

demo().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
