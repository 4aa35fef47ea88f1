/**
 * GET/HEAD /_ping and GET /version: what the docker CLI asks before anything else, to negotiate the API version;
 * GET /info: the system document `docker info` prints and `docker inspect` consults (Swarm.ControlAvailable).
 */
import { existsSync, readFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { arch, cpus, hostname, machine, release, totalmem } from "node:os";
import type { HandlerSpec } from "hookplugins";
import { apiVersion, minApiVersion } from "../apiVersion.js";
import type { DaemonContext } from "../context.js";
import { sendJson } from "../http.js";

/** minid's own version. */
export const minidVersion = "0.1.0";

function pingHeaders(res: ServerResponse): void {
  res.setHeader("API-Version", apiVersion);
  res.setHeader("OSType", "linux");
  res.setHeader("Docker-Experimental", "false");
  res.setHeader("Builder-Version", "1");
  res.setHeader("Cache-Control", "no-cache, no-store, must-revalidate");
  res.setHeader("Pragma", "no-cache");
}

/** The Engine's GOARCH name for this machine. */
function goArch(): string {
  const a = arch();
  return a === "x64" ? "amd64" : a === "ia32" ? "386" : a;
}

/** The /version document. */
export function versionInfo(ctx: DaemonContext): Record<string, unknown> {
  const details = {
    ApiVersion: apiVersion,
    MinAPIVersion: minApiVersion,
    Arch: goArch(),
    Os: "linux",
    KernelVersion: release(),
    GoVersion: `node ${process.version}`,
    GitCommit: "minid",
    BuildTime: "",
    Experimental: "false",
    Runtime: ctx.runtime.name,
  };
  return {
    Platform: { Name: "minid (hookplugins example daemon)" },
    Components: [{ Name: "Engine", Version: minidVersion, Details: details }],
    Version: minidVersion,
    ApiVersion: apiVersion,
    MinAPIVersion: minApiVersion,
    GitCommit: "minid",
    GoVersion: `node ${process.version}`,
    Os: "linux",
    Arch: goArch(),
    KernelVersion: release(),
    BuildTime: "",
  };
}

/** The host's distribution name from /etc/os-release, or "Linux". */
function operatingSystem(): string {
  try {
    return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync("/etc/os-release", "utf8"))?.[1] ?? "Linux";
  } catch {
    return "Linux";
  }
}

/** The /info document, with the fields the docker CLI reads (`docker info`, and `docker inspect` for Swarm). */
export function systemInfo(ctx: DaemonContext): Record<string, unknown> {
  const containers = ctx.containers.list();
  const running = containers.filter((c) => c.state.status === "running").length;
  const runtime = ctx.runtime.name;
  return {
    ID: "minid",
    Containers: containers.length,
    ContainersRunning: running,
    ContainersPaused: 0,
    ContainersStopped: containers.length - running,
    Images: ctx.images.list().length,
    Driver: ctx.snapshotter,
    DriverStatus: [["Root Dir", ctx.paths.images]],
    Plugins: { Volume: ["local"], Network: ["host", "none"], Authorization: null, Log: ["minid-file"] },
    MemoryLimit: true,
    SwapLimit: false,
    CpuCfsPeriod: true,
    CpuCfsQuota: true,
    CPUShares: true,
    CPUSet: true,
    PidsLimit: true,
    IPv4Forwarding: false,
    Debug: false,
    NFd: 0,
    OomKillDisable: false,
    NGoroutines: 0,
    SystemTime: new Date().toISOString(),
    LoggingDriver: "minid-file",
    CgroupDriver: "cgroupfs",
    CgroupVersion: existsSync("/sys/fs/cgroup/cgroup.controllers") ? "2" : "1",
    NEventsListener: 0,
    KernelVersion: release(),
    OperatingSystem: operatingSystem(),
    OSVersion: "",
    OSType: "linux",
    Architecture: machine(),
    IndexServerAddress: "https://index.docker.io/v1/",
    RegistryConfig: { AllowNondistributableArtifactsCIDRs: [], AllowNondistributableArtifactsHostnames: [], InsecureRegistryCIDRs: [], IndexConfigs: {}, Mirrors: [] },
    NCPU: cpus().length,
    MemTotal: totalmem(),
    GenericResources: null,
    DockerRootDir: ctx.paths.root,
    HttpProxy: "",
    HttpsProxy: "",
    NoProxy: "",
    Name: hostname(),
    Labels: [],
    ExperimentalBuild: false,
    ServerVersion: minidVersion,
    Runtimes: { [runtime]: { path: runtime === "runc" ? "runc" : "minid-dry-run" } },
    DefaultRuntime: runtime,
    Swarm: { NodeID: "", NodeAddr: "", LocalNodeState: "inactive", ControlAvailable: false, Error: "", RemoteManagers: null },
    LiveRestoreEnabled: false,
    Isolation: "",
    InitBinary: "",
    ContainerdCommit: { ID: "" },
    RuncCommit: { ID: "" },
    InitCommit: { ID: "" },
    SecurityOptions: [],
    Warnings: runtime === "runc" ? [] : ["WARNING: minid runs in dry-run mode: containers are written as OCI bundles, never run"],
  };
}

/** The system routes. */
export function systemRoutes(ctx: DaemonContext): HandlerSpec[] {
  return [
    {
      method: "GET",
      path: "/_ping",
      handler: (_req, res) => {
        pingHeaders(res);
        res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" });
        res.end("OK");
      },
    },
    {
      method: "HEAD",
      path: "/_ping",
      handler: (_req, res) => {
        pingHeaders(res);
        res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": 0 });
        res.end();
      },
    },
    { method: "GET", path: "/version", handler: (_req, res) => sendJson(res, 200, versionInfo(ctx)) },
    { method: "GET", path: "/info", handler: (_req, res) => sendJson(res, 200, systemInfo(ctx)) },
  ];
}
