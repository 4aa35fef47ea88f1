/**
 * The table of every hook point: which interface, which method, and how the host dispatches it.
 */
import type { PluginType } from "./interfaces.js";

/** How a host runs a hook point's plugins. */
export type DispatchKind =
  /** Each plugin sees the previous result; a plugin mutates the value or returns a replacement. */
  | "waterfall"
  /** Each plugin gets the same arguments; results are ignored. */
  | "series"
  /** Each plugin returns a list; the host merges them. */
  | "collect"
  /** Each plugin wraps the previous stream. */
  | "stream"
  /** Start in order with rollback; stop in reverse order, all of them. */
  | "lifecycle"
  /** Every plugin runs, in order, even when one fails; failures are collected and reported, never stop the run. */
  | "observe"
  /** A provider: plugins are asked in order, the first answer (not undefined) wins and no later plugin is called. */
  | "bail";

/** The methods of each plugin interface, in the order the README lists them. */
export const hookMethods = {
  ContainerPlugin: ["preCreate", "preStart", "preCreateEndpoint", "postStart", "onExit", "preUpdate", "postUpdate"],
  DaemonPlugin: ["preStartHook", "preStopHook"],
  VolumePlugin: ["preVolumeCreate"],
  CriPlugin: ["preCreateContainer"],
  APIPlugin: ["updateHandler"],
  ImagePlugin: ["postPull", "resolveImage"],
  CliPlugin: ["updateCommands"],
} as const satisfies Record<PluginType, readonly string[]>;

/** A hook method name of plugin type P. */
export type HookMethod<P extends PluginType = PluginType> = (typeof hookMethods)[P][number];

/** A hook point's name as errors and events spell it, e.g. "ContainerPlugin.preCreate". */
export type HookName = { [P in PluginType]: `${P}.${HookMethod<P>}` }[PluginType];

/** Static facts about one hook point. */
export interface HookPointInfo {
  /** "ContainerPlugin.preCreate", ... */
  readonly name: HookName;
  /** The interface the method belongs to. */
  readonly type: PluginType;
  /** The method name. */
  readonly method: string;
  /** How the host runs it. */
  readonly kind: DispatchKind;
  /** "priority": priority descending, registration order at equal priority; "reverse": exactly the reverse (stop hooks). */
  readonly order: "priority" | "reverse";
}

const kinds: Record<HookName, DispatchKind> = {
  "ContainerPlugin.preCreate": "waterfall",
  "ContainerPlugin.preStart": "collect",
  "ContainerPlugin.preCreateEndpoint": "waterfall",
  "ContainerPlugin.postStart": "observe",
  "ContainerPlugin.onExit": "observe",
  "ContainerPlugin.preUpdate": "stream",
  "ContainerPlugin.postUpdate": "series",
  "DaemonPlugin.preStartHook": "lifecycle",
  "DaemonPlugin.preStopHook": "lifecycle",
  "VolumePlugin.preVolumeCreate": "waterfall",
  "CriPlugin.preCreateContainer": "waterfall",
  "APIPlugin.updateHandler": "waterfall",
  "ImagePlugin.postPull": "series",
  "ImagePlugin.resolveImage": "bail",
  "CliPlugin.updateCommands": "waterfall",
};

/** Every hook point, in interface order then method order. */
export const hookPoints: readonly HookPointInfo[] = (Object.keys(hookMethods) as PluginType[]).flatMap((type) =>
  hookMethods[type].map((method) => {
    const name = `${type}.${method}` as HookName;
    return { name, type, method, kind: kinds[name], order: name === "DaemonPlugin.preStopHook" ? "reverse" : "priority" };
  }),
);

/** Every plugin interface name. */
export const pluginTypes = Object.keys(hookMethods) as readonly PluginType[];
