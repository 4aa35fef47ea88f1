/**
 * GET/HEAD /_ping and GET /version: what the docker CLI asks before anything else, to negotiate the API version.
 */
import type { ServerResponse } from "node:http";
import { arch, release } from "node:os";
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
  ];
}
