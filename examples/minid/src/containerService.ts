/**
 * Container operations behind the API routes: create, start, update, wait, remove.
 * Each runs the hook points the issue assigns to it.
 */
import { EventEmitter } from "node:events";
import { cp, mkdir, rm } from "node:fs/promises";
import type { Readable } from "node:stream";
import { toOciHooks, type ContainerCreateConfig, type Endpoint, type HostConfig } from "hookplugins";
import { bindMounts, parseBinds } from "./binds.js";
import { findImage, withImageConfig } from "./containerImage.js";
import { createdState, type ContainerEvents, type ContainerRecord } from "./containerStore.js";
import type { DaemonContext } from "./context.js";
import { readJsonObject } from "./http.js";
import { badRequest, conflict, HttpError } from "./httpErrors.js";
import { newId, newName, validName } from "./ids.js";
import { inspectContainer } from "./inspect.js";
import { appendLog } from "./logs.js";
import { networkHook } from "./networkHook.js";
import { buildOciSpec, writeOciSpec, type OciHookEntry, type OciSpec } from "./ociSpec.js";
import { containerPaths } from "./paths.js";
import type { RunningContainer } from "./runtime.js";
import { superviseRun, type Supervision } from "./supervision.js";

/** The environment every container starts with, before its own Env. */
export const defaultEnv = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"];

/** HostConfig fields `docker update` may change. */
export const updatableFields = [
  "Memory",
  "MemoryReservation",
  "MemorySwap",
  "CpuShares",
  "CpuPeriod",
  "CpuQuota",
  "CpusetCpus",
  "CpusetMems",
  "PidsLimit",
  "BlkioWeight",
  "RestartPolicy",
] as const;

function networkName(hostConfig: HostConfig): string {
  const mode = hostConfig.NetworkMode;
  return !mode || mode === "default" || mode === "bridge" ? "minid" : mode;
}

/** POST /containers/create: preCreate, then preCreateEndpoint while the endpoint is prepared. */
export async function createContainer(
  ctx: DaemonContext,
  body: Record<string, unknown>,
  requestedName: string | null,
): Promise<ContainerRecord> {
  if (requestedName !== null && requestedName !== "") {
    if (!validName.test(requestedName.replace(/^\//, ""))) {
      throw badRequest(`Invalid container name (${requestedName}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    }
    const holder = ctx.containers.byName(requestedName);
    if (holder) {
      throw conflict(
        `Conflict. The container name "/${holder.name}" is already in use by container "${holder.id}". You have to remove (or rename) that container to be able to reuse that name.`,
      );
    }
  }
  if (typeof body.Image !== "string" || body.Image === "") throw badRequest("No image was specified");
  const requested = await ctx.host.container.preCreate(body as unknown as ContainerCreateConfig);
  const imageRef = requested.Image;
  const image = await findImage(ctx, imageRef);
  const config = withImageConfig(requested, image.config);
  const { HostConfig: hostConfig = {}, NetworkingConfig: _networking, ...containerConfig } = config;
  parseBinds(hostConfig.Binds ?? [], ctx.paths.volumes); // reject malformed binds now, not at start
  const id = newId();
  const name = requestedName ? requestedName.replace(/^\//, "") : newName((n) => ctx.containers.byName(n) !== undefined);
  const endpoint = await ctx.host.container.preCreateEndpoint(id, containerConfig.Env ?? [], {
    Name: networkName(hostConfig),
    ID: newId(),
    Owner: id,
    Hostname: containerConfig.Hostname || id.slice(0, 12),
    NetworkMode: hostConfig.NetworkMode ?? "default",
    Priority: 0,
    DisableResolver: false,
    GenericParams: {},
  } satisfies Endpoint);
  const args = [...(containerConfig.Entrypoint ?? []), ...(containerConfig.Cmd ?? [])];
  if (args.length === 0) throw badRequest("no command specified");
  const paths = containerPaths(ctx.paths, id);
  await mkdir(paths.bundle, { recursive: true });
  await cp(image.rootfs, paths.rootfs, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
  const record: ContainerRecord = {
    id,
    name,
    created: new Date().toISOString(),
    imageId: image.id,
    imageRef,
    config: containerConfig,
    hostConfig,
    endpoint,
    args,
    paths,
    state: createdState(),
    starting: false,
    starts: 0,
    events: new EventEmitter<ContainerEvents>(),
  };
  ctx.containers.add(record);
  return record;
}

function parseUser(user: string | undefined): { uid: number; gid: number } {
  if (!user) return { uid: 0, gid: 0 };
  const match = /^(\d+)(?::(\d+))?$/.exec(user);
  if (!match) throw badRequest(`unable to find user ${user}: minid only understands numeric uid[:gid]`);
  return { uid: Number(match[1]), gid: Number(match[2] ?? match[1]) };
}

/** The runtime spec of `record` with `prestart` hooks. */
export function containerSpec(ctx: DaemonContext, record: ContainerRecord, prestart: OciHookEntry[]): OciSpec {
  const { config, hostConfig } = record;
  return buildOciSpec({
    id: record.id,
    hostname: record.endpoint.Hostname || config.Hostname || record.id.slice(0, 12),
    args: record.args,
    env: [...defaultEnv, `HOSTNAME=${record.endpoint.Hostname || record.id.slice(0, 12)}`, ...(config.Env ?? [])],
    cwd: config.WorkingDir || "/",
    user: parseUser(config.User),
    rootfs: "rootfs",
    readonlyRootfs: hostConfig.ReadonlyRootfs === true,
    memory: hostConfig.Memory,
    cpuShares: hostConfig.CpuShares,
    hostNetwork: hostConfig.NetworkMode === "host",
    binds: bindMounts(parseBinds(hostConfig.Binds ?? [], ctx.paths.volumes)),
    prestart,
    annotations: { "org.minid.name": record.name, "org.minid.image": record.imageRef },
  });
}

/** POST /containers/{id}/start: preStart's merged hooks go into config.json, then the runtime runs the bundle. */
export async function startContainer(ctx: DaemonContext, record: ContainerRecord): Promise<"started" | "already running"> {
  if (record.state.status === "running") return "already running";
  if (record.starting) throw conflict(`container ${record.id} is already being started`);
  record.starting = true;
  try {
    return await launch(ctx, record);
  } finally {
    record.starting = false;
  }
}

async function launch(ctx: DaemonContext, record: ContainerRecord): Promise<"started"> {
  const builtin = [networkHook(ctx.networkHookPath, record.id, record.endpoint.Name ?? "minid")];
  const hooks = await ctx.host.container.preStart(inspectContainer(record, ctx.paths.volumes), { builtin });
  for (const bind of parseBinds(record.hostConfig.Binds ?? [], ctx.paths.volumes)) {
    if (bind.volume && !ctx.volumes.list().some((v) => v.Name === bind.volume)) {
      await ctx.volumes.create(await ctx.host.volume.preVolumeCreate({ Name: bind.volume }));
    }
  }
  await writeOciSpec(record.paths.config, containerSpec(ctx, record, toOciHooks(hooks)));
  await rm(`${record.paths.bundle}/prestart.trace`, { force: true });
  await rm(record.paths.runcLog, { force: true });
  await ctx.runtime.delete(record.id); // leftovers of an earlier run
  const running = ctx.runtime.run(
    { id: record.id, bundle: record.paths.bundle, runtimeLog: record.paths.runcLog },
    {
      stdout: (chunk) => record.events.emit("log", appendLog(record.paths.log, 1, chunk)),
      stderr: (chunk) => record.events.emit("log", appendLog(record.paths.log, 2, chunk)),
    },
  );
  record.process = running;
  record.starts += 1;
  record.state = { ...record.state, status: "running", error: "", startedAt: new Date().toISOString(), oomKilled: false };
  const supervision = superviseRun(ctx, record, running);
  let finished: Promise<void> | undefined;
  const end = (code: number, error: string): void => {
    finished = finish(ctx, record, running, supervision, code, error);
    record.exitReported = finished;
  };
  running.exited.then(
    (code) => end(code, ""),
    (err: unknown) => end(128, (err as Error).message),
  );
  try {
    await running.started;
  } catch (err) {
    await running.exited.catch(() => undefined);
    await finished;
    record.state = { ...record.state, status: "exited", exitCode: 128, error: (err as Error).message };
    throw new HttpError(500, (err as Error).message, { cause: err });
  }
  if (record.process === running && record.state.status === "running") record.state.pid = running.pid();
  // ContainerPlugin.postStart has run when the start request is answered; its failures are only logged
  await supervision.postStarted;
  return "started";
}

/** Records the end of `running` (the OOM verdict first), emits "exit", then runs ContainerPlugin.onExit. */
async function finish(ctx: DaemonContext, record: ContainerRecord, running: RunningContainer, supervision: Supervision, code: number, error: string): Promise<void> {
  let deleted: Promise<void> | undefined;
  await supervision.ended(code, (oomKilled) => {
    if (record.process !== running) return;
    record.process = undefined;
    const finishedAt = new Date().toISOString();
    record.state = { ...record.state, status: "exited", pid: 0, exitCode: code, error: error || record.state.error, finishedAt, oomKilled };
    deleted = ctx.runtime.delete(record.id).catch(() => undefined);
    record.events.emit("exit", code);
  });
  await deleted;
}

/** POST /containers/{id}/update: preUpdate on the raw body stream, parse, apply, then postUpdate. */
export async function updateContainer(ctx: DaemonContext, record: ContainerRecord, rawBody: Readable): Promise<string[]> {
  const body = await readJsonObject(await ctx.host.container.preUpdate(rawBody));
  const changes: Partial<HostConfig> = {};
  for (const field of updatableFields) {
    if (body[field] !== undefined && body[field] !== null) (changes as Record<string, unknown>)[field] = body[field];
  }
  for (const field of ["Memory", "CpuShares"] as const) {
    const value = changes[field];
    if (value !== undefined && (typeof value !== "number" || !Number.isInteger(value) || value < 0)) {
      throw badRequest(`${field} must be a non-negative integer`);
    }
  }
  const warnings: string[] = [];
  if (record.state.status === "running" && (changes.Memory || changes.CpuShares)) {
    await ctx.runtime.update(record.id, {
      ...(changes.Memory ? { memory: changes.Memory } : {}),
      ...(changes.CpuShares ? { cpuShares: changes.CpuShares } : {}),
    });
  }
  Object.assign(record.hostConfig, changes);
  await ctx.host.container.postUpdate(record.paths.rootfs, record.config.Env ?? []);
  return warnings;
}

/** Resolves with the exit code once `record` is not running (at once when it is not). */
export function waitNotRunning(record: ContainerRecord): Promise<number> {
  if (record.state.status !== "running") return Promise.resolve(record.state.exitCode);
  return new Promise((resolve) => record.events.once("exit", resolve));
}

/** Stops a running container with SIGKILL and waits for it. */
export async function killContainer(ctx: DaemonContext, record: ContainerRecord): Promise<void> {
  const running = record.process;
  if (!running || record.state.status !== "running") return record.exitReported;
  await ctx.runtime.kill(record.id, "KILL").catch(() => undefined);
  await running.exited.catch(() => undefined);
  await waitNotRunning(record);
  await record.exitReported;
}

/** DELETE /containers/{id}: 409 for a running container unless `force`. */
export async function removeContainer(ctx: DaemonContext, record: ContainerRecord, force: boolean): Promise<void> {
  if (record.starting) throw conflict(`cannot remove container "/${record.name}": it is being started`);
  if (record.state.status === "running") {
    if (!force) {
      throw conflict(
        `cannot remove container "/${record.name}": container is running: stop the container before removing or force remove`,
      );
    }
    await killContainer(ctx, record);
  }
  await ctx.runtime.delete(record.id);
  ctx.containers.remove(record.id);
  record.events.emit("removed");
  await rm(record.paths.dir, { recursive: true, force: true });
}
