/**
 * The container routes: create, start, update, inspect, wait, logs, remove.
 */
import type { HandlerSpec } from "hookplugins";
import {
  createContainer,
  removeContainer,
  startContainer,
  updateContainer,
  waitNotRunning,
} from "../containerService.js";
import type { DaemonContext } from "../context.js";
import { queryFlag, readJsonObject, requestUrl, sendEmpty, sendJson } from "../http.js";
import { badRequest } from "../httpErrors.js";
import { inspectContainer } from "../inspect.js";
import { frame, readLog, selectLog, type LogQuery, type LogRecord } from "../logs.js";

function idOf(params: Record<string, string>): string {
  return params.id ?? "";
}

/** The container routes. */
export function containerRoutes(ctx: DaemonContext): HandlerSpec[] {
  return [
    {
      method: "POST",
      path: "/containers/create",
      handler: async (req, res) => {
        const body = await readJsonObject(req);
        const record = await createContainer(ctx, body, requestUrl(req).searchParams.get("name"));
        sendJson(res, 201, { Id: record.id, Warnings: [] });
      },
    },
    {
      method: "GET",
      path: "/containers/json",
      handler: (req, res) => {
        const all = queryFlag(requestUrl(req), "all");
        const list = ctx.containers
          .list()
          .filter((c) => all || c.state.status === "running")
          .reverse()
          .map((c) => ({
            Id: c.id,
            Names: [`/${c.name}`],
            Image: c.imageRef,
            ImageID: c.imageId,
            Command: c.args.join(" "),
            Created: Math.floor(Date.parse(c.created) / 1000),
            State: c.state.status,
            Status: c.state.status === "exited" ? `Exited (${c.state.exitCode})` : c.state.status === "running" ? "Up" : "Created",
            Ports: [],
            Labels: c.config.Labels ?? {},
            HostConfig: { NetworkMode: c.hostConfig.NetworkMode ?? "default" },
            Mounts: [],
          }));
        sendJson(res, 200, list);
      },
    },
    {
      method: "POST",
      path: "/containers/{id}/start",
      handler: async (req, res, params) => {
        req.resume();
        const outcome = await startContainer(ctx, ctx.containers.resolve(idOf(params)));
        sendEmpty(res, outcome === "started" ? 204 : 304);
      },
    },
    {
      method: "POST",
      path: "/containers/{id}/update",
      handler: async (req, res, params) => {
        const record = ctx.containers.resolve(idOf(params));
        const warnings = await updateContainer(ctx, record, req);
        sendJson(res, 200, { Warnings: warnings });
      },
    },
    {
      method: "GET",
      path: "/containers/{id}/json",
      handler: (_req, res, params) => {
        sendJson(res, 200, inspectContainer(ctx.containers.resolve(idOf(params)), ctx.paths.volumes));
      },
    },
    {
      method: "POST",
      path: "/containers/{id}/wait",
      handler: async (req, res, params) => {
        req.resume();
        const record = ctx.containers.resolve(idOf(params));
        const condition = requestUrl(req).searchParams.get("condition") || "not-running";
        if (!["not-running", "next-exit", "removed"].includes(condition)) {
          throw badRequest(`invalid condition: "${condition}"`);
        }
        // Like the Engine: headers go out at once, the body when the condition is met.
        res.writeHead(200, { "Content-Type": "application/json" });
        res.flushHeaders();
        const event = condition === "removed" ? "removed" : condition === "next-exit" || record.state.status === "running" ? "exit" : undefined;
        const code = event
          ? await new Promise<number | undefined>((resolve) => {
              const done = (): void => {
                record.events.off(event, done);
                res.off("close", gone);
                resolve(record.state.exitCode);
              };
              const gone = (): void => {
                record.events.off(event, done);
                resolve(undefined);
              };
              record.events.on(event, done);
              res.on("close", gone);
            })
          : await waitNotRunning(record);
        if (code !== undefined) res.end(JSON.stringify({ StatusCode: code, Error: null }));
      },
    },
    {
      method: "GET",
      path: "/containers/{id}/logs",
      handler: async (req, res, params) => {
        const record = ctx.containers.resolve(idOf(params));
        const url = requestUrl(req);
        const tail = url.searchParams.get("tail");
        const query: LogQuery = {
          stdout: queryFlag(url, "stdout"),
          stderr: queryFlag(url, "stderr"),
          timestamps: queryFlag(url, "timestamps"),
          ...(tail && tail !== "all" ? { tail: Math.max(0, Number.parseInt(tail, 10) || 0) } : {}),
        };
        if (!query.stdout && !query.stderr) throw badRequest("Bad parameters: you must choose at least one stream");
        const tty = record.config.Tty === true;
        const encode = (r: LogRecord): Buffer => (tty ? r.data : frame(r.stream, r.data));
        res.writeHead(200, {
          "Content-Type": tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream",
        });
        for (const record_ of selectLog(await readLog(record.paths.log), query)) res.write(encode(record_));
        if (!queryFlag(url, "follow") || record.state.status !== "running") {
          res.end();
          return;
        }
        const follow = { ...query, tail: undefined };
        const onLog = (r: LogRecord): void => {
          for (const line of selectLog([r], follow)) res.write(encode(line));
        };
        const stop = (): void => {
          record.events.off("log", onLog);
          record.events.off("exit", stop);
          res.end();
        };
        record.events.on("log", onLog);
        record.events.once("exit", stop);
        res.on("close", stop);
      },
    },
    {
      method: "DELETE",
      path: "/containers/{id}",
      handler: async (req, res, params) => {
        const record = ctx.containers.resolve(idOf(params));
        await removeContainer(ctx, record, queryFlag(requestUrl(req), "force"));
        sendEmpty(res, 204);
      },
    },
  ];
}
