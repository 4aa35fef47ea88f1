/**
 * The seven plugin interfaces a plugin author implements, and the types their hooks exchange.
 * Method names are the camelCase forms of PouchContainer's hook plugin methods.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import type {
  ContainerCreateConfig,
  ContainerJSON,
  CriContainerConfig,
  CriPulledImage,
  CriSandboxMeta,
  Endpoint,
  ImageInfo,
  SandboxMeta,
  VolumeCreateConfig,
} from "../domain/index.js";
import type { HookContext } from "./context.js";

/** A value, or a promise of it: every hook method may be sync or async. */
export type MaybePromise<T> = T | PromiseLike<T>;

/** What happens to an operation when a plugin fails: stop it (default) or skip the plugin and go on. */
export type FailPolicy = "fail-closed" | "fail-open";

/** Metadata every plugin object carries next to its hook methods. */
export interface PluginMeta {
  /** Unique name within its plugin type; errors and events use it. */
  readonly name: string;
  /** Higher runs first; equal priorities keep registration order. Finite number, default 0. */
  readonly priority?: number;
  /** The plugin's own version (free text, semver recommended). */
  readonly version?: string;
  /** One line saying what the plugin does. */
  readonly description?: string;
  /** Who maintains the plugin. */
  readonly author?: string;
  /** Per-call time limit in milliseconds for this plugin's async hooks; 0 turns it off; default: the host's. */
  readonly timeoutMs?: number;
  /** What a failure of this plugin does to the operation; default "fail-closed". */
  readonly failPolicy?: FailPolicy;
}

/** An OCI prestart hook a ContainerPlugin asks the runtime to run before the container process starts. */
export interface PrestartHook {
  /** Higher runs first; the host's network hook sits at 0. */
  priority: number;
  /** Absolute path of the executable. */
  path: string;
  /** Arguments after the program name (argv[1..]); the program name is added by toOciHooks. */
  args?: string[];
  /** Environment as KEY=value strings. */
  env?: string[];
  /** Seconds the runtime waits for the hook (at least 1). */
  timeout?: number;
}

/** The default HTTP handler signature of an API route. */
export type HandlerFunction = (
  req: IncomingMessage,
  res: ServerResponse,
  params: Record<string, string>,
) => void | Promise<void>;

/** One route of the host's API, as APIPlugin.updateHandler sees and returns it. */
export interface HandlerSpec<H = HandlerFunction> {
  /** HTTP method, upper case (GET, POST, ...). */
  method: string;
  /** Route path, e.g. "/containers/{id}/start". */
  path: string;
  /** The function that serves the route. */
  handler: H;
}

/** How a container's main process ended. */
export interface ContainerExit {
  /** Exit status; 128+n when killed by signal n (as Docker reports it). */
  readonly code: number;
  /** The signal that killed it ("SIGKILL", ...), or undefined when it exited by itself. */
  readonly signal: NodeJS.Signals | undefined;
  /** Whether the kernel's OOM killer ended it. */
  readonly oomKilled: boolean;
  /** When it ended, RFC 3339. */
  readonly finishedAt: string;
}

/** Hooks around a container's life: create, network endpoint, start, exit, update. */
export interface ContainerPlugin<
  Config extends ContainerCreateConfig = ContainerCreateConfig,
  Container = ContainerJSON,
  Ep extends Endpoint = Endpoint,
> extends PluginMeta {
  /** Before a container is created: mutate `config` in place or return a replacement. */
  preCreate?: (ctx: HookContext, config: Config) => MaybePromise<Config | void>;
  /** Before the container process starts: return OCI prestart hooks for the runtime to run. */
  preStart?: (ctx: HookContext, container: Container) => MaybePromise<readonly PrestartHook[] | void>;
  /** While the container's network endpoint is prepared: mutate `endpoint` or return a replacement. */
  preCreateEndpoint?: (
    ctx: HookContext,
    containerId: string,
    env: readonly string[],
    endpoint: Ep,
  ) => MaybePromise<Ep | void>;
  /** After the container's process started: an observer (every plugin runs; a failure is reported, never undoes the start). */
  postStart?: (ctx: HookContext, container: Container) => MaybePromise<void>;
  /** Once per exit of the container's main process: an observer (every plugin runs; failures are reported). */
  onExit?: (ctx: HookContext, container: Container, exit: ContainerExit) => MaybePromise<void>;
  /** On the raw update request body: return the same stream or a transformed one. */
  preUpdate?: (ctx: HookContext, body: Readable) => MaybePromise<Readable | void>;
  /** After a container was updated, with its root filesystem path and environment. */
  postUpdate?: (ctx: HookContext, rootfs: string, env: readonly string[]) => MaybePromise<void>;
}

/** Hooks around the daemon's own start and stop. */
export interface DaemonPlugin extends PluginMeta {
  /** When the daemon starts, before it serves; a failure stops the start and rolls back earlier plugins. */
  preStartHook?: (ctx: HookContext) => MaybePromise<void>;
  /** When the daemon stops, in reverse order; every plugin's stop runs even when another fails. */
  preStopHook?: (ctx: HookContext) => MaybePromise<void>;
}

/** Hooks around volume creation. */
export interface VolumePlugin<VolumeConfig extends VolumeCreateConfig = VolumeCreateConfig> extends PluginMeta {
  /** Before a volume is created: mutate `config` in place or return a replacement. */
  preVolumeCreate?: (ctx: HookContext, config: VolumeConfig) => MaybePromise<VolumeConfig | void>;
}

/**
 * Hooks on the CRI (Kubernetes) path. In a host with default types `config` is the Docker-style create config; behind
 * the CRI relay (hookplugins/cri) it is CRI's own `CriContainerConfig`: type such a plugin with CriHostTypes
 * (`registerCriPlugin<CriHostTypes>(...)`, or `CriRelayPlugin`).
 */
export interface CriPlugin<Config = ContainerCreateConfig, Meta = SandboxMeta> extends PluginMeta {
  /** Before a CRI container is created in a pod sandbox: mutate `config` or return a replacement. */
  preCreateContainer?: (ctx: HookContext, config: Config, sandboxMeta: Meta) => MaybePromise<Config | void>;
}

/** Hooks on the host's HTTP API. */
export interface APIPlugin<H = HandlerFunction> extends PluginMeta {
  /** Before the API server starts: add, remove or wrap routes; return the new list (or mutate it). */
  updateHandler?: (ctx: HookContext, handlers: HandlerSpec<H>[]) => MaybePromise<HandlerSpec<H>[] | void>;
}

/** An image config as OCI's image-spec "config" object spells it. */
export interface ImageRunConfig {
  /** Environment as KEY=value strings. */
  Env?: string[];
  /** Default arguments. */
  Cmd?: string[];
  /** The program and its first arguments. */
  Entrypoint?: string[];
  /** Working directory of the process. */
  WorkingDir?: string;
  /** User (name, uid or uid:gid) the process runs as. */
  User?: string;
  /** The image's labels. */
  Labels?: Record<string, string>;
}

/** What an image driver supplies: a root filesystem folder and the image's config. */
export interface ResolvedImage {
  /** The reference it resolved. */
  readonly ref: string;
  /** Absolute path of the root filesystem folder. */
  readonly rootfs: string;
  /** The image's config. */
  readonly config: ImageRunConfig;
  /** The image's content digest ("sha256:..."), when it has one. */
  readonly digest?: string;
}

/** Hooks around images. */
export interface ImagePlugin<Image = ImageInfo> extends PluginMeta {
  /** After an image was pulled (or imported) into `snapshotter`. */
  postPull?: (ctx: HookContext, snapshotter: string, image: Image) => MaybePromise<void>;
  /**
   * An image driver: asked in priority order, the first answer supplies the image. Return undefined when `ref` is not
   * this plugin's; throw when it is but cannot be supplied (a fail-open plugin's throw is reported and the next is asked).
   */
  resolveImage?: (ctx: HookContext, ref: string) => MaybePromise<ResolvedImage | undefined | void>;
}

/** One option (flag) of a CLI command, in commander's syntax. */
export interface CliOptionSpec {
  /** "--force", "-n, --name <value>", "--tag <tags...>". */
  readonly flags: string;
  /** One line for --help. */
  readonly description: string;
  /** The value when the flag is not given. */
  readonly defaultValue?: string | boolean;
}

/** One positional argument of a CLI command. */
export interface CliArgumentSpec {
  /** The argument's name as --help shows it. */
  readonly name: string;
  /** One line for --help. */
  readonly description?: string;
  /** Whether it must be given (default false). */
  readonly required?: boolean;
  /** Whether it takes the rest of the arguments (only the last one). */
  readonly variadic?: boolean;
}

/** What a command's action gets: its arguments, its options, and where to print. */
export interface CliInvocation {
  /** The positional arguments (a variadic argument's values spread at the end). */
  readonly args: readonly string[];
  /** The options by camelCase name (commander's), undefined when not given and without default. */
  readonly options: Readonly<Record<string, string | boolean | readonly string[] | undefined>>;
  /** Prints one line on the command's output. */
  readonly out: (line: string) => void;
  /** Aborted when the user interrupts the command. */
  readonly signal?: AbortSignal;
}

/** A CLI command as plain data, which a host maps onto commander or any other CLI library. */
export interface CliCommandSpec {
  /** The command's name ("status"; a space separates subcommand levels: "image import"). */
  name: string;
  /** One line for --help. */
  description: string;
  /** Positional arguments, in order. */
  arguments?: CliArgumentSpec[];
  /** Options. */
  options?: CliOptionSpec[];
  /** Left out of --help (still runs). */
  hidden?: boolean;
  /** Runs the command; resolves with its exit status (0 or nothing: success). */
  action: (invocation: CliInvocation) => MaybePromise<number | void>;
  /** Set by the host: the plugin that added the command; undefined for built-ins. */
  readonly plugin?: string;
  /** Set by the host on a built-in it runs itself: a plugin that removes, wraps, hides or changes it is refused (CliCommandLockedError). */
  readonly locked?: boolean;
}

/** Hooks on a host's command line. */
export interface CliPlugin extends PluginMeta {
  /** Before the CLI parses its arguments: add, wrap or hide commands; return the new list (or mutate it). */
  updateCommands?: (ctx: HookContext, commands: CliCommandSpec[]) => MaybePromise<CliCommandSpec[] | void>;
}

/** The types a host exchanges with its plugins; a host with richer types overrides some of them. */
export interface HostTypes {
  /** Container create request body. */
  config: ContainerCreateConfig;
  /** Container object passed to preStart, postStart and onExit. */
  container: unknown;
  /** Network endpoint passed to preCreateEndpoint. */
  endpoint: Endpoint;
  /** Volume create request body. */
  volumeConfig: VolumeCreateConfig;
  /** CRI sandbox metadata. */
  sandboxMeta: unknown;
  /** Image passed to postPull. */
  image: unknown;
  /** API route handler. */
  handler: unknown;
  /** The container config CriPlugin.preCreateContainer sees; absent: `config` (as before CRI's own types existed). */
  criConfig?: unknown;
}

/** The config CriPlugin.preCreateContainer sees in a host of types T: T's `criConfig` when it sets one, else its `config`. */
export type CriConfigOf<T extends HostTypes> = T extends { criConfig: infer C } ? C : T["config"];

/** The default HostTypes: PouchContainer's API types. */
export interface DefaultHostTypes extends HostTypes {
  /** Container create request body. */
  config: ContainerCreateConfig;
  /** Container object passed to preStart. */
  container: ContainerJSON;
  /** Network endpoint passed to preCreateEndpoint. */
  endpoint: Endpoint;
  /** Volume create request body. */
  volumeConfig: VolumeCreateConfig;
  /** CRI sandbox metadata. */
  sandboxMeta: SandboxMeta;
  /** Image passed to postPull. */
  image: ImageInfo;
  /** API route handler. */
  handler: HandlerFunction;
}

/** DefaultHostTypes with some entries replaced by a host's richer types. */
export type CustomHostTypes<Overrides extends Partial<HostTypes>> = Omit<DefaultHostTypes, keyof Overrides> &
  Overrides;

/**
 * The types behind the CRI relay (hookplugins/cri): CriPlugin.preCreateContainer sees CRI's own ContainerConfig and
 * the request's sandbox, ImagePlugin.postPull the ImageStatus image. ContainerPlugins keep the Docker-style config.
 */
export type CriHostTypes = CustomHostTypes<{ criConfig: CriContainerConfig; sandboxMeta: CriSandboxMeta; image: CriPulledImage }>;

/** A CriPlugin written against CRI's own types, for the CRI relay. */
export type CriRelayPlugin = CriPlugin<CriContainerConfig, CriSandboxMeta>;

/** The plugin object types of each interface for a given HostTypes. */
export interface PluginsOf<T extends HostTypes> {
  /** ContainerPlugin for T. */
  ContainerPlugin: ContainerPlugin<T["config"], T["container"], T["endpoint"]>;
  /** DaemonPlugin (no host types). */
  DaemonPlugin: DaemonPlugin;
  /** VolumePlugin for T. */
  VolumePlugin: VolumePlugin<T["volumeConfig"]>;
  /** CriPlugin for T. */
  CriPlugin: CriPlugin<CriConfigOf<T>, T["sandboxMeta"]>;
  /** APIPlugin for T. */
  APIPlugin: APIPlugin<T["handler"]>;
  /** ImagePlugin for T. */
  ImagePlugin: ImagePlugin<T["image"]>;
  /** CliPlugin (no host types). */
  CliPlugin: CliPlugin;
}

/** The name of one of the seven plugin interfaces. */
export type PluginType = keyof PluginsOf<HostTypes>;
