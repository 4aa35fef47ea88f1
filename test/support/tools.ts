/**
 * The system tools the end-to-end tests need (root, runc, busybox, the docker CLI, Debian's docker CLI 20.10 beside it,
 * dockerd, go, openssl, and for the engine harnesses podman, the CNI plugins, docker-registry, containerd and ctr; python3 for the Python example), found once per test file on PATH and in the
 * usual directories, and the way tests skip when one is missing.
 *
 * - `HOOKPLUGINS_TEST_NO=runc,busybox` (or `all`) makes the named tools count as missing, to try the skips.
 * - `HOOKPLUGINS_REQUIRE_ALL_TOOLS=1` (set by `.ci/run`) turns every would-be skip into a failure naming the
 *   tool, so that broken detection can never silently skip the proof in CI.
 */
import { execFileSync } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";
import { describe, it, type TestContext } from "vitest";

/**
 * A tool an end-to-end test can need; "root" is running as uid 0; "cni" is the CNI plugins' `loopback`; "docker-20.10"
 * is a docker CLI of version 20.10 (Debian 12's docker.io, /usr/bin/docker), the oldest the proxy is tested with.
 */
export type Tool = "root" | "runc" | "busybox" | "docker" | "docker-20.10" | "dockerd" | "go" | "podman" | "cni" | "docker-registry" | "containerd" | "ctr" | "script" | "openssl" | "python3";

/** Every tool this module knows. */
export const allTools: readonly Tool[] = ["root", "runc", "busybox", "docker", "docker-20.10", "dockerd", "go", "podman", "cni", "docker-registry", "containerd", "ctr", "script", "openssl", "python3"];

/** How to get each tool on Debian or Ubuntu. */
export const installHints: Readonly<Record<Tool, string>> = {
  root: "run them as root",
  runc: "apt-get install -y runc",
  busybox: "apt-get install -y busybox-static",
  docker: "apt-get install -y docker.io",
  "docker-20.10": "apt-get install -y docker.io on Debian 12, which puts the docker CLI 20.10 at /usr/bin/docker",
  dockerd: "apt-get install -y docker.io",
  go: "apt-get install -y golang-go",
  podman: "apt-get install -y podman",
  cni: "apt-get install -y containernetworking-plugins",
  "docker-registry": "apt-get install -y docker-registry",
  containerd: "apt-get install -y containerd",
  ctr: "apt-get install -y containerd",
  script: "apt-get install -y bsdutils",
  openssl: "apt-get install -y openssl",
  python3: "apt-get install -y python3",
};

/** Directories searched after PATH, where Debian packages and manual installs put binaries. */
export const usualDirs: readonly string[] = [
  "/usr/local/sbin",
  "/usr/local/bin",
  "/usr/sbin",
  "/usr/bin",
  "/sbin",
  "/bin",
  "/usr/lib/go/bin",
  "/usr/local/go/bin",
];

/** The folders CNI plugins are installed in (Podman's default `cni_plugin_dirs`). */
export const cniPluginDirs: readonly string[] = ["/usr/local/libexec/cni", "/usr/libexec/cni", "/usr/local/lib/cni", "/usr/lib/cni", "/opt/cni/bin"];

/** The executable each tool is looked up by. */
const binaries: Readonly<Record<Exclude<Tool, "root" | "docker-20.10">, string>> = {
  runc: "runc",
  busybox: "busybox",
  docker: "docker",
  dockerd: "dockerd",
  go: "go",
  podman: "podman",
  cni: "loopback",
  "docker-registry": "docker-registry",
  containerd: "containerd",
  ctr: "ctr",
  script: "script",
  openssl: "openssl",
  python3: "python3",
};

/** Environment variables this module reads. */
export const toolEnv = {
  /** Comma-separated tools to treat as missing, or "all". */
  disabled: "HOOKPLUGINS_TEST_NO",
  /** "1": a missing tool fails the test instead of skipping it. */
  requireAll: "HOOKPLUGINS_REQUIRE_ALL_TOOLS",
} as const;

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The first executable file called `name` on `searchPath` or in `usualDirs`, or undefined. */
export function findExecutable(name: string, searchPath: string = process.env.PATH ?? ""): string | undefined {
  const dirs = [...searchPath.split(delimiter).filter((dir) => isAbsolute(dir)), ...usualDirs];
  for (const dir of new Set(dirs)) {
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/** The first `docker` on PATH or in `usualDirs` whose `--version` is 20.10.x, or undefined. */
function findDocker2010(searchPath: string = process.env.PATH ?? ""): string | undefined {
  const dirs = [...searchPath.split(delimiter).filter((dir) => isAbsolute(dir)), ...usualDirs];
  for (const dir of new Set(dirs)) {
    const candidate = join(dir, "docker");
    if (!isExecutableFile(candidate)) continue;
    try {
      if (/^Docker version 20\.10\./.test(execFileSync(candidate, ["--version"], { encoding: "utf8", timeout: 10_000 }))) return candidate;
    } catch {
      // not a docker CLI that answers --version: look further
    }
  }
  return undefined;
}

function disabledTools(): Set<string> {
  const raw = process.env[toolEnv.disabled] ?? "";
  const names = raw.split(",").map((name) => name.trim()).filter(Boolean);
  return new Set(names.includes("all") ? allTools : names);
}

/** True when `HOOKPLUGINS_REQUIRE_ALL_TOOLS=1`: tests fail instead of skipping for a missing tool. */
export const requireAllTools = process.env[toolEnv.requireAll] === "1";

const found = new Map<Tool, string | undefined>();

/** Where `tool` is (an absolute path; "root" gives "uid 0"), or undefined when it is missing. Looked up once. */
export function findTool(tool: Tool): string | undefined {
  if (!found.has(tool)) {
    let where: string | undefined;
    if (disabledTools().has(tool)) where = undefined;
    else if (tool === "root") where = typeof process.getuid === "function" && process.getuid() === 0 ? "uid 0" : undefined;
    else if (tool === "cni") where = findExecutable(binaries.cni, cniPluginDirs.join(delimiter));
    else if (tool === "docker-20.10") where = findDocker2010();
    else where = findExecutable(binaries[tool]);
    found.set(tool, where);
  }
  return found.get(tool);
}

/** True when every one of `tools` is there. */
export function hasTools(...tools: Tool[]): boolean {
  return tools.every((tool) => findTool(tool) !== undefined);
}

/** The ones of `tools` that are missing, in the order given. */
export function missingTools(...tools: Tool[]): Tool[] {
  return tools.filter((tool) => findTool(tool) === undefined);
}

/** "needs runc (apt-get install -y runc)" for the missing ones of `tools`, or undefined when none is missing. */
export function skipReason(...tools: Tool[]): string | undefined {
  const missing = missingTools(...tools);
  if (missing.length === 0) return undefined;
  return `needs ${missing.map((tool) => `${tool === "root" ? "root" : tool} (${installHints[tool]})`).join(", ")}`;
}

/** The error a test gets for a missing tool when `HOOKPLUGINS_REQUIRE_ALL_TOOLS=1`. */
export class MissingToolError extends Error {
  /** The missing tools. */
  readonly tools: readonly Tool[];

  /** An error naming the missing `tools`. */
  constructor(tools: readonly Tool[]) {
    super(
      `${skipReason(...tools) ?? "needs nothing"}; ${toolEnv.requireAll}=1 forbids skipping it ` +
        `(found: ${allTools.map((tool) => `${tool}=${findTool(tool) ?? "missing"}`).join(", ")})`,
    );
    this.name = "MissingToolError";
    this.tools = tools;
  }
}

/** The absolute path of `tool`; throws MissingToolError when it is missing (use after a skip check). */
export function toolPath(tool: Exclude<Tool, "root">): string {
  const where = findTool(tool);
  if (where === undefined) throw new MissingToolError([tool]);
  return where;
}

/**
 * Inside a test: skips it (with the reason as the note the reporter prints) when one of `tools` is missing, or fails
 * it with MissingToolError under `HOOKPLUGINS_REQUIRE_ALL_TOOLS=1`.
 */
export function requireTools(ctx: TestContext, ...tools: Tool[]): void {
  const missing = missingTools(...tools);
  if (missing.length === 0) return;
  if (requireAllTools) throw new MissingToolError(missing);
  ctx.skip(skipReason(...missing));
}

/** A test body, as `it` takes it. */
type TestBody = (ctx: TestContext) => unknown;

/** `it` for a test that needs `tools`: `itWithTools("runc", "busybox")("runs a container", async () => ...)`. */
export function itWithTools(...tools: Tool[]): (name: string, body: TestBody, timeout?: number) => void {
  return (name, body, timeout) =>
    it(
      name,
      async (ctx) => {
        requireTools(ctx, ...tools);
        await body(ctx);
      },
      timeout,
    );
}

/**
 * `describe` for a group whose hooks need `tools` too (e.g. a dockerd started in beforeAll): when one is missing the
 * whole group is skipped with the reason in its name, or, under `HOOKPLUGINS_REQUIRE_ALL_TOOLS=1`, replaced by one
 * failing test that names the tool.
 */
export function describeWithTools(tools: readonly Tool[], name: string, body: () => void): void {
  const missing = missingTools(...tools);
  if (missing.length === 0) {
    describe(name, body);
  } else if (requireAllTools) {
    describe(name, () => {
      it(`has the tools it needs (${tools.join(", ")})`, () => {
        throw new MissingToolError(missing);
      });
    });
  } else describe.skip(`${name} [skipped: ${skipReason(...missing) ?? ""}]`, body);
}

/** True when runc really runs containers here: root, runc and busybox (for the image) are all there. */
export const canRunContainers = (): boolean => hasTools("root", "runc", "busybox");

/** The tools a test that runs containers under runc needs. */
export const containerTools: readonly Tool[] = ["root", "runc", "busybox"];
