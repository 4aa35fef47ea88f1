/**
 * The host methods of issue 18 minid calls (postStart, onExit, resolveImage, updateCommands) and the types they
 * exchange, spelled out locally: they match the library's API contract structurally and are reached through
 * `extendedHost(host)` until the library version that has them is merged; then these become the library's types.
 */
import type { MaybePromise } from "hookplugins";
import type { MinidHost } from "./context.js";

/** How a container's main process ended (the library's ContainerExit). */
export interface ContainerExitInfo {
  /** Exit status; 128+n when killed by signal n. */
  readonly code: number;
  /** The signal that killed it, or undefined when it exited by itself. */
  readonly signal: NodeJS.Signals | undefined;
  /** Whether the kernel's OOM killer killed a process of the container. */
  readonly oomKilled: boolean;
  /** When it ended, RFC 3339. */
  readonly finishedAt: string;
}

/** An image config as OCI's image-spec spells it (the library's ImageRunConfig). */
export interface ImageConfigInfo {
  /** KEY=value environment. */
  Env?: string[];
  /** Default arguments. */
  Cmd?: string[];
  /** The program and its first arguments. */
  Entrypoint?: string[];
  /** Working directory. */
  WorkingDir?: string;
  /** User. */
  User?: string;
  /** Labels. */
  Labels?: Record<string, string>;
}

/** What an image driver answered (the library's ImageResolution). */
export interface ImageResolutionInfo {
  /** The plugin that answered. */
  readonly plugin: string;
  /** What it supplied. */
  readonly image: { readonly ref: string; readonly rootfs: string; readonly config: ImageConfigInfo; readonly digest?: string };
}

/** One option of a CLI command (the library's CliOptionSpec). */
export interface CliOptionInfo {
  /** commander syntax: "--force", "-n, --name <value>". */
  readonly flags: string;
  /** Help text. */
  readonly description: string;
  /** Default value. */
  readonly defaultValue?: string | boolean;
}

/** One positional argument of a CLI command (the library's CliArgumentSpec). */
export interface CliArgumentInfo {
  /** Name shown in help. */
  readonly name: string;
  /** Help text. */
  readonly description?: string;
  /** Must be given. */
  readonly required?: boolean;
  /** Takes the rest of the arguments. */
  readonly variadic?: boolean;
}

/** What a command's action receives (the library's CliInvocation). */
export interface CliInvocationInfo {
  /** Positional arguments. */
  readonly args: readonly string[];
  /** Option values by camelCase name. */
  readonly options: Readonly<Record<string, string | boolean | readonly string[] | undefined>>;
  /** Prints one line. */
  readonly out: (line: string) => void;
  /** Aborted when the command should stop. */
  readonly signal?: AbortSignal;
}

/** A CLI command as plain data (the library's CliCommandSpec). */
export interface CliCommandInfo {
  /** The command word. */
  name: string;
  /** One line of help. */
  description: string;
  /** Positional arguments. */
  arguments?: CliArgumentInfo[];
  /** Options. */
  options?: CliOptionInfo[];
  /** Left out of --help. */
  hidden?: boolean;
  /** Runs the command; resolves with the exit status (undefined: 0). */
  action: (invocation: CliInvocationInfo) => MaybePromise<number | void>;
  /** The plugin that added it; undefined for built-ins. */
  readonly plugin?: string;
}

/** What an observer hook point's run ended with (the library's ObserverOutcome). */
export interface ObserverOutcomeInfo {
  /** The failures of fail-closed plugins, each also reported as a hookError event. */
  readonly failures: readonly Error[];
}

/** The issue-18 methods of the hookplugins host minid calls. */
export interface ExtendedHost {
  /** ContainerPlugin.postStart and onExit. */
  readonly container: {
    postStart(container: unknown): Promise<ObserverOutcomeInfo>;
    onExit(container: unknown, exit: ContainerExitInfo): Promise<ObserverOutcomeInfo>;
  };
  /** ImagePlugin.resolveImage. */
  readonly image: { resolveImage(ref: string): Promise<ImageResolutionInfo | undefined> };
  /** CliPlugin.updateCommands. */
  readonly cli: { updateCommands(commands: CliCommandInfo[]): Promise<CliCommandInfo[]> };
}

/** `host` seen with its issue-18 methods. */
export function extendedHost(host: MinidHost): ExtendedHost {
  return host as unknown as ExtendedHost;
}
