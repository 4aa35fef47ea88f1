/**
 * The hookplugins demo (`npm start`): starts minid with the plugins compiled in through the generated
 * module, runs a busybox container through the docker CLI (or plain HTTP when there is no docker CLI),
 * prints every hook point as it fires, then sends itself SIGTERM and shuts the daemon down cleanly.
 * Where containers cannot run (no root, runc or busybox-static; or --dry-run), minid says why and runs in dry-run
 * mode: it writes the OCI bundle and prints what it would run. The demo exits 0 in both modes, and Ctrl-C at any
 * moment stops its daemon cleanly.
 */
import "./src/plugins.generated.js";
import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { request } from "node:http";
import { constants, tmpdir } from "node:os";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { createHost } from "hookplugins";
import { startDaemon } from "./src/daemon.js";
import { findDockerCli } from "./src/detectRuntime.js";
import { demultiplex } from "./src/logs.js";
import { watchShutdownSignals } from "./src/shutdownSignals.js";
import { traceHost } from "./src/traceHost.js";

const print = (line: string): void => void process.stdout.write(`${line}\n`);
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** A short name for `path`: from the repo root inside the repo, `$STATE/...` inside the daemon's state directory. */
function shortPath(path: string, stateDir: string): string {
  if (path === stateDir || path.startsWith(`${stateDir}${sep}`)) return `$STATE${path.slice(stateDir.length)}`;
  if (path.startsWith(`${repoRoot}${sep}`)) return relative(repoRoot, path);
  return path;
}

/** Every absolute path in `text` shortened as by shortPath. */
function shortPaths(text: string, stateDir: string): string {
  return text.replace(/\/[\w./-]+/g, (path) => shortPath(path, stateDir));
}

interface Shell {
  /** True once a signal ended the demo early. */
  stopping(): boolean;
  /** Runs the docker CLI, printing the command, what the printed value is (`label`) and its output. */
  docker(args: string[], label: string): Promise<string>;
  /** Sends one request to the socket, printing it, what the answer is (`label`) and the answer. */
  http(method: string, path: string, label: string, body?: unknown): Promise<string>;
}

/** The demo's commands; once `stopping()` is true they do nothing (a signal ended the demo early). */
function shell(dockerCli: string | undefined, socketPath: string, stateDir: string, stopping: () => boolean): Shell {
  const quote = (a: string): string => (/[\s;$>'{}]/.test(a) ? `'${a}'` : a);
  return {
    stopping,
    docker: (args, label) => {
      if (stopping()) return Promise.resolve("");
      print(`\n$ docker ${args.map((a) => quote(shortPath(a, stateDir))).join(" ")}    # ${label}`);
      return new Promise((resolvePromise) => {
        execFile(dockerCli ?? "docker", args, { env: { ...process.env, DOCKER_HOST: `unix://${socketPath}` } }, (err, stdout, stderr) => {
          const out = `${stdout}${stderr}`.trimEnd();
          if (out) print(out.replace(/^/gm, "  "));
          if (err) print(`  (docker exited with code ${String(err.code)})`);
          resolvePromise(stdout.trim());
        });
      });
    },
    http: (method, path, label, body) => {
      if (stopping()) return Promise.resolve("");
      const shown = body === undefined ? "" : Buffer.isBuffer(body) ? ` <${body.length} bytes>` : ` ${JSON.stringify(body)}`;
      print(`\n> ${method} ${path}${shown}    # ${label}`);
      return new Promise((resolvePromise) => {
        const headers = { "Content-Type": Buffer.isBuffer(body) ? "application/x-tar" : "application/json" };
        const req = request({ socketPath, method, path, headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const raw = Buffer.concat(chunks);
            const text = (res.headers["content-type"] === "application/vnd.docker.multiplexed-stream" ? Buffer.concat(demultiplex(raw).map((r) => r.data)) : raw).toString("utf8");
            print(`  HTTP ${res.statusCode ?? 0}: ${shortPaths(text.trim(), stateDir).slice(0, 300)}`);
            resolvePromise(text);
          });
        });
        req.on("error", (err) => {
          print(`  request failed: ${err.message}`);
          resolvePromise("");
        });
        req.end(body === undefined ? undefined : Buffer.isBuffer(body) ? body : JSON.stringify(body));
      });
    },
  };
}

async function runContainer(sh: Shell, viaDocker: boolean, stateDir: string, busyboxRootfs: string): Promise<void> {
  const script = "echo hello from busybox; cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null; ls /data";
  const env = ["HOOKPLUGINS_MEMORY=512m", "HOOKPLUGINS_CPU_SHARES=512"];
  const archive = join(stateDir, "rootfs.tar");
  execFileSync("tar", ["-C", busyboxRootfs, "-cf", archive, "."]);
  let id: string;
  if (viaDocker) {
    const format = "client API {{.Client.APIVersion}}, server {{.Server.Version}} (API {{.Server.APIVersion}})";
    await sh.docker(["version", "--format", format], "the API versions client and daemon agreed on");
    await sh.docker(["volume", "create", "demo-data"], "prints the new volume's name");
    id = await sh.docker(
      ["create", "--name", "demo", ...env.flatMap((e) => ["-e", e]), "-v", "demo-data:/data", "busybox", "sh", "-c", script],
      "prints the new container's id",
    );
    await sh.docker(["start", "demo"], "prints the container's name");
    await sh.docker(["wait", "demo"], "prints the container's exit code");
    await sh.docker(["logs", "demo"], "prints what the container wrote");
    const inspect = "Memory={{.HostConfig.Memory}} CpuShares={{.HostConfig.CpuShares}} State={{.State.Status}}";
    await sh.docker(["inspect", "-f", inspect, "demo"], "the limits envlimits set, in bytes and CPU shares");
    await sh.docker(["update", "--cpu-shares", "256", "demo"], "prints the container's name");
    await sh.docker(["import", archive, "demo-image:1"], "prints the new image's id");
    await sh.docker(["images", "--format", "{{.Repository}}:{{.Tag}} created {{.CreatedSince}}, {{.Size}}"], "name, age and size of each image");
  } else {
    await sh.http("GET", "/version", "the daemon's version document");
    await sh.http("POST", "/volumes/create", "the new volume", { Name: "demo-data" });
    const body = { Image: "busybox", Cmd: ["sh", "-c", script], Env: env, HostConfig: { Binds: ["demo-data:/data"] } };
    const created = await sh.http("POST", "/containers/create?name=demo", "the new container's id", body);
    id = ((): string => {
      try {
        return (JSON.parse(created) as { Id?: string }).Id ?? "";
      } catch {
        return "";
      }
    })();
    await sh.http("POST", "/containers/demo/start", "204: started");
    await sh.http("POST", "/containers/demo/wait", "the container's exit code");
    await sh.http("GET", "/containers/demo/logs?stdout=1&stderr=1", "what the container wrote");
    await sh.http("POST", "/containers/demo/update", "warnings, if any", { CpuShares: 256 });
    await sh.http("POST", "/images/create?fromSrc=-&repo=demo-image&tag=1", "the new image's id", await readFile(archive));
  }
  const configPath = join(stateDir, "containers", id, "bundle", "config.json");
  if (!id && sh.stopping()) return;
  if (!id || !existsSync(configPath)) {
    print("\nThe container was not created (see the error above), so there is no OCI bundle to show.");
  } else {
    const config = JSON.parse(await readFile(configPath, "utf8")) as {
      hooks?: { prestart?: Array<{ path: string; args?: string[] }> };
      linux: { resources: unknown };
    };
    print(`\nOCI bundle written by minid (${shortPath(configPath, stateDir)}):`);
    print(`  linux.resources = ${JSON.stringify(config.linux.resources)}`);
    for (const [i, hook] of (config.hooks?.prestart ?? []).entries()) {
      print(`  hooks.prestart[${i}] = ${shortPaths([hook.path, ...(hook.args ?? []).slice(1)].join(" "), stateDir).slice(0, 110)}`);
    }
    const trace = join(stateDir, "containers", id, "bundle", "prestart.trace");
    if (existsSync(trace)) {
      const order = (await readFile(trace, "utf8")).split("\n").filter(Boolean);
      print(`  runc ran the prestart hooks in this order: ${order.join(" -> ")}`);
    }
  }
  if (viaDocker) await sh.docker(["rm", "demo"], "prints the removed container's name");
  else await sh.http("DELETE", "/containers/demo", "204: removed");
}

async function demo(): Promise<void> {
  const stateDir = await mkdtemp(join(tmpdir(), "minid-demo-"));
  const socketPath = join(stateDir, "minid.sock");
  const host = createHost();
  host.events.on("hookStart", ({ plugin, hook }) => print(`      plugin "${plugin}" runs ${hook}`));
  host.events.on("hookError", ({ plugin, hook, error }) => print(`      plugin "${plugin}" failed in ${hook}: ${String(error)}`));
  const traced = traceHost(host, (hook) => print(`  ⚓ hook point ${hook}`));
  // As in minid's main: the handlers go in first, so Ctrl-C at any moment still stops the daemon cleanly.
  let received: string | undefined;
  const signals = watchShutdownSignals({
    log: print,
    forceQuit: (signal) => {
      print(`minid: ${signal} received a third time: force quit`);
      process.exit(128 + constants.signals[signal]);
    },
  });
  void signals.first.then((signal) => {
    received = signal;
    print(`\nminid: ${signal} received, shutting down`);
  });
  print("minid demo: starting the daemon with the plugins compiled in by examples/minid/src/plugins.generated.ts");
  print(`  state directory ($STATE): ${stateDir}`);
  const dryRun = process.argv.includes("--dry-run") ? true : "auto";
  const daemon = await startDaemon({ host: traced, socketPath, stateDir, dryRun, log: (line) => print(`  ${shortPaths(line, stateDir)}`) });
  print(`minid: serving the Docker Engine API on unix://$STATE/minid.sock (runtime: ${daemon.context.runtime.name})`);
  const stopped = signals.first.then(() => daemon.stop());
  try {
    const dockerCli = await findDockerCli();
    if (!dockerCli) print("(no docker CLI found: talking HTTP to the socket directly; `apt-get install -y docker.io` gets one)");
    const sh = shell(dockerCli, socketPath, stateDir, () => received !== undefined);
    const ran = runContainer(sh, dockerCli !== undefined, stateDir, daemon.context.images.resolve("busybox")?.rootfs ?? stateDir);
    // a signal from outside ends the demo early; its daemon stops cleanly all the same
    await Promise.race([ran, stopped]);
    if (!received && daemon.dryRunReason) {
      print(`\nThis was a dry run (${daemon.dryRunReason}): minid wrote the OCI bundle and ran nothing.`);
      print("As root with runc and busybox-static installed (apt-get install -y runc busybox-static), runc runs the container.");
    }
  } finally {
    if (!received) process.kill(process.pid, "SIGTERM");
    await stopped;
    host.close();
    await rm(stateDir, { recursive: true, force: true });
  }
  print("minid: stopped cleanly");
  // docker commands still under way after an early signal must not keep the demo alive
  if (received) process.exit(0);
}

demo().catch((err: unknown) => {
  process.stderr.write(`minid demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
