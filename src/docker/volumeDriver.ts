/**
 * Docker's VolumeDriver API on top of a hookplugins host and a VolumeStore: Create runs the host's preVolumeCreate
 * (a plugin may reject the volume or change its options), the rest keeps the volumes' directories and mount counts.
 * Failures are answered as `{"Err": ...}` with status 200, which dockerd reports as `<op> <volume>: <Err>`.
 */
import { PluginHookError, type Host, type VolumeCreateConfig } from "hookplugins";
import { Deadlines } from "./deadlines.js";
import { VolumeStore, VolumeStoreError } from "./volumeStore.js";

/** What the volume driver handlers need. */
export interface VolumeDriverOptions {
  /** The host whose VolumePlugins see each Create. */
  readonly host: Host;
  /** The driver's name (the `-d <name>` of `docker volume create`). */
  readonly driverName: string;
  /** The volumes' state. */
  readonly store: VolumeStore;
  /** Longest time one Create may take in the plugins, in ms (default 10000). */
  readonly requestTimeoutMs?: number;
}

type Reply = Record<string, unknown>;

function args(body: unknown): { Name?: unknown; ID?: unknown; Opts?: unknown } {
  return typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
}

function failure(error: unknown): Reply {
  if (error instanceof VolumeStoreError || error instanceof PluginHookError) return { Err: error.message };
  return { Err: `hookplugins volume driver: ${(error as Error).message ?? String(error)}` };
}

function options(opts: unknown): Record<string, string> {
  if (opts === null || opts === undefined) return {};
  if (typeof opts !== "object" || Array.isArray(opts) || !Object.values(opts).every((v) => typeof v === "string")) {
    throw new VolumeStoreError(`volume options must be key=value strings, got ${JSON.stringify(opts)}`);
  }
  return { ...(opts as Record<string, string>) };
}

/** The handlers of every VolumeDriver.* call. */
export function createVolumeDriverHandlers(o: VolumeDriverOptions): Record<string, (body: unknown) => Promise<Reply> | Reply> {
  const { store, host, driverName } = o;
  const deadlines = new Deadlines(o.requestTimeoutMs ?? 10_000);
  const guard =
    (fn: (a: ReturnType<typeof args>) => Promise<Reply> | Reply) =>
    async (body: unknown): Promise<Reply> => {
      try {
        return await fn(args(body));
      } catch (error) {
        return failure(error);
      }
    };
  const name = (a: ReturnType<typeof args>): string => {
    if (typeof a.Name !== "string") throw new VolumeStoreError("the request has no volume Name");
    return a.Name;
  };
  return {
    "VolumeDriver.Capabilities": () => ({ Capabilities: { Scope: "local" } }),
    "VolumeDriver.Create": guard(async (a) => {
      const volume = name(a);
      const config: VolumeCreateConfig = { Name: volume, Driver: driverName, DriverOpts: options(a.Opts) };
      const deadline = deadlines.start();
      let final: VolumeCreateConfig;
      try {
        final = await host.volume.preVolumeCreate(config, { signal: deadline.signal });
      } finally {
        deadline.done();
      }
      if (final.Name !== volume) {
        throw new VolumeStoreError(`a plugin renamed volume ${volume} to ${JSON.stringify(final.Name)}; a volume driver cannot rename the volume Docker asked for`);
      }
      await store.create(volume, options(final.DriverOpts));
      return {};
    }),
    "VolumeDriver.Remove": guard(async (a) => {
      await store.remove(name(a));
      return {};
    }),
    "VolumeDriver.Get": guard((a) => {
      const volume = name(a);
      const info = store.get(volume);
      return info ? { Volume: info } : { Err: `no such volume: ${volume}` };
    }),
    "VolumeDriver.List": guard(() => ({ Volumes: store.list().map((v) => ({ Name: v.Name, Mountpoint: v.Mountpoint })) })),
    "VolumeDriver.Path": guard((a) => {
      const volume = name(a);
      if (!store.get(volume)) return { Err: `no such volume: ${volume}` };
      return { Mountpoint: store.mountpoint(volume) };
    }),
    "VolumeDriver.Mount": guard(async (a) => {
      if (typeof a.ID !== "string") throw new VolumeStoreError(`Mount of volume ${String(a.Name)} has no caller ID`);
      return { Mountpoint: await store.mount(name(a), a.ID) };
    }),
    "VolumeDriver.Unmount": guard(async (a) => {
      await store.unmount(name(a), typeof a.ID === "string" ? a.ID : "");
      return {};
    }),
  };
}
