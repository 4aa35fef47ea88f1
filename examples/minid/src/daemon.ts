/**
 * The minid daemon: runs DaemonPlugin.preStartHook, prepares its stores and the busybox image, passes the
 * route table through APIPlugin.updateHandler, then serves the Engine API subset on a UNIX socket.
 * `stop()` kills running containers, runs DaemonPlugin.preStopHook and closes the socket.
 */
import { mkdir, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { HandlerSpec } from "hookplugins";
import { ContainerStore } from "./containerStore.js";
import { killContainer } from "./containerService.js";
import type { DaemonContext, MinidHost } from "./context.js";
import { findBusybox, probeRunc } from "./detectRuntime.js";
import { DryRunRuntime } from "./dryRun.js";
import { ImageStore } from "./imageStore.js";
import { installNetworkHook } from "./networkHook.js";
import { statePaths } from "./paths.js";
import { createRouter } from "./router.js";
import { containerRoutes } from "./routes/containers.js";
import { imageRoutes } from "./routes/images.js";
import { systemRoutes } from "./routes/system.js";
import { volumeRoutes } from "./routes/volumes.js";
import { RuncRuntime } from "./runc.js";
import type { Runtime } from "./runtime.js";
import { VolumeStore } from "./volumeStore.js";

/** How to start a daemon. */
export interface DaemonOptions {
  /** The hookplugins host (e.g. `createHost()` after the generated plugin module was imported). */
  host: MinidHost;
  /** UNIX socket path to serve on. */
  socketPath: string;
  /** State directory (images, containers, volumes, runc state). */
  stateDir: string;
  /** true: never run runc; false: require it; "auto" (default): dry-run when runc is missing or not root. */
  dryRun?: boolean | "auto";
  /** runc binary (default "runc" on PATH or in the usual directories). */
  runc?: string;
  /** busybox-static binary for the busybox image (default: found like runc); false: use none (a placeholder image in dry-run mode). */
  busybox?: string | false;
  /** Where daemon messages go (default: stderr). */
  log?: (line: string) => void;
  /** Called for every request (method and URL), e.g. to show traffic in the demo. */
  onRequest?: (method: string, url: string) => void;
}

/** A started daemon. */
export interface Daemon {
  /** The socket it serves. */
  socketPath: string;
  /** Its shared state (stores, runtime, host). */
  context: DaemonContext;
  /** The route table after APIPlugin.updateHandler. */
  routes: readonly HandlerSpec[];
  /** Why it runs in dry-run mode ("" when runc runs containers). */
  dryRunReason: string;
  /** Stops serving, kills running containers, runs DaemonPlugin.preStopHook. */
  stop(): Promise<void>;
}

/** The runtime minid uses, why it is the dry-run one ("" for runc), and the busybox binary it found. */
interface RuntimeChoice {
  runtime: Runtime;
  reason: string;
  busybox: string | undefined;
}

async function chooseRuntime(options: DaemonOptions, runcRoot: string, log: (line: string) => void): Promise<RuntimeChoice> {
  const busybox = options.busybox === false ? undefined : (options.busybox ?? (await findBusybox()));
  if (options.dryRun === true) return { runtime: new DryRunRuntime(runcRoot, log), reason: "dry-run was requested", busybox };
  const probe = await probeRunc(options.runc);
  const reason = !probe.usable ? probe.reason : busybox ? "" : 'busybox was not found; install the Debian package "busybox-static"';
  if (!reason) return { runtime: new RuncRuntime(probe.path ?? options.runc ?? "runc", runcRoot), reason: "", busybox };
  if (options.dryRun === false) throw new Error(`cannot run containers: ${reason}`);
  return { runtime: new DryRunRuntime(runcRoot, log), reason, busybox };
}

function listen(server: Server, socketPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/** Starts a daemon; rejects (after rolling back the daemon plugins) when it cannot. */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { host } = options;
  const paths = statePaths(options.stateDir);
  await host.daemon.preStart();
  try {
    for (const dir of [paths.root, paths.images, paths.containers, paths.volumes, paths.runcRoot]) await mkdir(dir, { recursive: true });
    const { runtime, reason, busybox } = await chooseRuntime(options, paths.runcRoot, log);
    if (options.dryRun === true) log("minid: running in dry-run mode, as requested: bundles are written, nothing is executed");
    else if (reason) log(`minid: runc cannot run containers here (${reason}); running in dry-run mode: bundles are written, nothing is executed`);
    const images = new ImageStore(paths.images);
    const volumes = new VolumeStore(paths.volumes);
    await images.load();
    await volumes.load();
    if (busybox) await images.buildBusybox(busybox);
    else if (!images.resolve("busybox")) {
      await images.buildPlaceholder("busybox:latest");
      log("minid: busybox-static is not installed: the busybox image is an empty placeholder root filesystem (enough for dry-run mode)");
    }
    const context: DaemonContext = {
      host,
      paths,
      images,
      containers: new ContainerStore(),
      volumes,
      runtime,
      networkHookPath: await installNetworkHook(paths.hooks),
      snapshotter: "minid-copy",
      busybox,
      log,
    };
    const routes = await host.api.updateHandler([
      ...systemRoutes(context),
      ...containerRoutes(context),
      ...volumeRoutes(context),
      ...imageRoutes(context),
    ]);
    const router = createRouter(routes);
    const server = createServer((req, res) => {
      options.onRequest?.(req.method ?? "GET", req.url ?? "/");
      router(req, res);
    });
    await rm(options.socketPath, { force: true });
    await listen(server, options.socketPath);
    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> =>
      (stopping ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        await Promise.all(context.containers.list().map((c) => killContainer(context, c)));
        server.closeAllConnections();
        await closed;
        await rm(options.socketPath, { force: true });
        await host.daemon.preStop();
      })());
    return { socketPath: options.socketPath, context, routes, dryRunReason: reason, stop };
  } catch (err) {
    await host.daemon.preStop().catch(() => undefined);
    throw err;
  }
}
