/**
 * Wraps a hookplugins host so every hook point the daemon dispatches is reported before it runs
 * (the host's own events only fire for plugins that implement the hook).
 */

/** The hook point behind each host method minid calls. */
export const hostMethodHooks: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  container: {
    preCreate: "ContainerPlugin.preCreate",
    preStart: "ContainerPlugin.preStart",
    preCreateEndpoint: "ContainerPlugin.preCreateEndpoint",
    preUpdate: "ContainerPlugin.preUpdate",
    postUpdate: "ContainerPlugin.postUpdate",
    postStart: "ContainerPlugin.postStart",
    onExit: "ContainerPlugin.onExit",
  },
  daemon: { preStart: "DaemonPlugin.preStartHook", preStop: "DaemonPlugin.preStopHook" },
  volume: { preVolumeCreate: "VolumePlugin.preVolumeCreate" },
  cri: { preCreateContainer: "CriPlugin.preCreateContainer" },
  api: { updateHandler: "APIPlugin.updateHandler" },
  image: { postPull: "ImagePlugin.postPull", resolveImage: "ImagePlugin.resolveImage" },
};

/** A view of `host` that calls `onHookPoint(hookName)` before each hook point method runs. */
export function traceHost<H extends object>(host: H, onHookPoint: (hook: string) => void): H {
  return new Proxy(host, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      const table = typeof prop === "string" ? hostMethodHooks[prop] : undefined;
      if (!table || typeof value !== "object" || value === null) return value;
      return new Proxy(value, {
        get(group, method) {
          const fn: unknown = Reflect.get(group, method);
          const hook = typeof method === "string" ? table[method] : undefined;
          if (!hook || typeof fn !== "function") return fn;
          return (...args: unknown[]) => {
            onHookPoint(hook);
            return (fn as (...a: unknown[]) => unknown).apply(group, args);
          };
        },
      });
    },
  });
}
