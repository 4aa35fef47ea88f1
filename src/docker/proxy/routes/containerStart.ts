/**
 * `POST /containers/{id}/start`: `ContainerPlugin.preStart` with the engine's inspect of the container; the plugins'
 * hooks are left for the runtime wrapper as the container's prestart hand-off, then the start goes on to the engine.
 * A plugin's failure fails the start, and nothing is started. Hooks on a runtime that would not run them are refused.
 * Once the engine answered a start with 2xx (304, "already started", is not a start) and the client has its answer,
 * `ContainerPlugin.postStart` runs with the engine's inspect of the started container: an observer, whose failures
 * are logged and never change the answer. The container's observer queue is held from before the engine is asked,
 * so that the onExit of a process that ends at once comes after its postStart.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { readHandoff, removeHandoff, writeHandoff } from "hookplugins/runtime";
import { ProxyHttpError } from "../errorResponse.js";
import { observe } from "../observerHost.js";
import { readBody } from "../requestBody.js";
import { clientGone, inspectContainer, versionPrefix, type RouteContext } from "./context.js";
import type { RuntimeCheck } from "./runtimeCheck.js";

/** The handler of `POST /containers/{id}/start`. */
export function containerStart(ctx: RouteContext, runtimes: RuntimeCheck): (req: IncomingMessage, res: ServerResponse, params: Record<string, string>) => Promise<void> {
  return async (req, res, params) => {
    const signal = clientGone(res);
    const body = await readBody(req, "the container start request");
    const prefix = versionPrefix(req);
    const { body: container } = await inspectContainer(ctx.engine, params["id"] ?? "", prefix);
    if (container === undefined || typeof container.Id !== "string") {
      // the engine's own answer (no such container, ...): the start goes on unchanged and it says so
      await ctx.engine.forward(req, res, { body });
      return;
    }
    const id = container.Id;
    const hooks = await ctx.host.container.preStart(container, { signal });
    if (hooks.length > 0) {
      const runtime = await runtimes.judge((container.HostConfig as { Runtime?: string } | undefined)?.Runtime, prefix);
      if (runtime.runsHooks === false) {
        throw new ProxyHttpError(
          409,
          `plugins returned ${hooks.length} prestart hook${hooks.length === 1 ? "" : "s"} for container ${id.slice(0, 12)}, but its runtime "${runtime.name}" (${runtime.path}) would not run them; install the hookplugins runtime wrapper (hookplugins runtime install) and run the container with it (--runtime, or the engine's default runtime)`,
        );
      }
      if (runtime.runsHooks === undefined) ctx.log(`hookplugins docker-proxy: cannot tell whether runtime "${runtime.name}" of container ${id.slice(0, 12)} runs prestart hooks; the hand-off is left for the hookplugins runtime wrapper`);
    }
    await writeHandoff(ctx.handoffDir, { version: 1, id, createdAt: new Date().toISOString(), source: "docker-proxy", hooks });
    // Started or not, the runtime has had its chance to take the hand-off: one left behind must not linger for a
    // later start. After a start, one left behind means the runtime was not the wrapper: its hooks did not run.
    const cleanUp = async (status: number): Promise<undefined> => {
      const left = await readHandoff(ctx.handoffDir, id).catch(() => undefined);
      if (!left) return undefined;
      await removeHandoff(ctx.handoffDir, id);
      if (status >= 200 && status < 300 && hooks.length > 0) {
        ctx.log(`hookplugins docker-proxy: container ${id.slice(0, 12)} started, but its runtime did not take the plugins' ${hooks.length} prestart hook(s): they did not run; run it with the hookplugins runtime wrapper`);
      }
      return undefined;
    };
    const slot = ctx.postStart ? ctx.order.hold(id) : { release: (): void => undefined };
    let status = 0;
    try {
      await ctx.engine.forward(req, res, {
        body,
        beforeEnd: (answered) => {
          status = answered;
          return cleanUp(answered);
        },
      });
    } catch (error) {
      slot.release();
      await removeHandoff(ctx.handoffDir, id);
      throw error;
    }
    // after the answer (a client gone before it: started if the engine's StartedAt moved)
    slot.release(async () => {
      if (status !== 0 && (status < 200 || status >= 300)) return;
      const started = await inspectContainer(ctx.engine, id, prefix).catch(() => ({ status: 0, body: undefined }));
      if (started.body === undefined) {
        if (status !== 0) ctx.log(`hookplugins docker-proxy: container ${id.slice(0, 12)} started, but the engine cannot inspect it (status ${started.status}): postStart did not run`);
        return;
      }
      if (status === 0 && started.body.State?.StartedAt === container.State?.StartedAt) return;
      await observe(ctx.host, started.body, { hook: "postStart" }, ctx.log);
    });
  };
}
