/**
 * A real image registry for tests (Debian's `docker-registry`, distribution 2.8) on 127.0.0.1 and a free port, with
 * its storage in a private folder, so that tests push and pull for real without the internet. dockerd trusts
 * 127.0.0.0/8 registries over plain HTTP by default; Podman needs the address in `insecureRegistries`
 * (startPodmanService), else it refuses with "http: server gave HTTP response to HTTPS client".
 */
import { createServer } from "node:net";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { openRunFolder, startDetached, waitUntilReady, type RunResult } from "./processes.js";
import { findTool, skipReason, type Tool } from "../tools.js";

/** The tools a registry needs here (describeWithTools(registryTools, ...)). */
export const registryTools: readonly Tool[] = ["docker-registry"];

/** Why a registry cannot run here (naming the missing tool and its package), or undefined when it can. */
export function registrySkipReason(): string | undefined {
  return skipReason(...registryTools);
}

/** A registry started for a test file. */
export interface Registry {
  /** The private folder holding its configuration, storage and log. */
  readonly dir: string;
  /** Where it listens, "127.0.0.1:<port>": the prefix of its image references. */
  readonly address: string;
  /** The registry's pid. */
  readonly pid: number;
  /** Its log so far. */
  log(): string;
  /** Stops it by pid and removes its folder. */
  stop(): Promise<void>;
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** True when the registry at `address` answers its API's version check (GET /v2/ → 200). */
async function answers(address: string): Promise<boolean> {
  const response = await fetch(`http://${address}/v2/`, { signal: AbortSignal.timeout(2_000) });
  return response.status === 200;
}

/** Starts a registry on a free port with storage in a new private folder, and waits until it answers. */
export async function startRegistry(): Promise<Registry> {
  const run = await openRunFolder("hprg-");
  const dir = run.dir;
  const binary = findTool("docker-registry")!;
  for (let attempt = 1; ; attempt++) {
    const address = `127.0.0.1:${await freePort()}`;
    const config = join(dir, `config-${attempt}.yml`);
    await writeFile(
      config,
      [
        "version: 0.1",
        "log: { level: warn }",
        `storage: { filesystem: { rootdirectory: ${JSON.stringify(join(dir, "storage"))} }, delete: { enabled: true } }`,
        `http: { addr: ${JSON.stringify(address)}, secret: ${JSON.stringify(randomBytes(16).toString("hex"))} }`,
        "",
      ].join("\n"),
    );
    const daemon = startDetached(binary, ["serve", config], { logFile: join(dir, "registry.log") });
    let stopped: Promise<void> | undefined;
    const registry: Registry = {
      dir,
      address,
      pid: daemon.pid,
      log: () => daemon.log(),
      stop() {
        return (stopped ??= (async () => {
          await daemon.stop(10_000);
          await run.remove();
        })());
      },
    };
    try {
      await waitUntilReady("the registry did not answer", daemon, () => answers(address), 20_000);
      return registry;
    } catch (error) {
      // the port was taken between the probe and the registry's listen: try another one
      const lostRace = /address already in use/.test(daemon.log());
      await daemon.stop(5_000);
      if (!lostRace || attempt >= 3) {
        await registry.stop();
        throw error;
      }
    }
  }
}

/** Anything with a docker CLI: a Dockerd (test/docker/dockerd.ts) or a PodmanService. */
export interface DockerCli {
  /** Runs the docker CLI against the engine; never rejects for a non-zero exit. */
  docker(args: readonly string[], options?: { timeoutMs?: number }): Promise<RunResult>;
}

/** Where pushBusybox puts the image: `<registry>/<repository>:<tag>`. */
export interface PushOptions {
  /** The local image to push (default "bb", the harnesses' busybox). */
  source?: string;
  /** Repository in the registry (default "bb"). */
  repository?: string;
  /** Tag (default "1"). */
  tag?: string;
}

/**
 * Tags the engine's local `bb` image as `<registry address>/bb:1` (or as told) and pushes it with the docker CLI;
 * returns the reference, ready for `docker rmi` and a real `docker pull`. Throws with the CLI's output on failure.
 */
export async function pushBusybox(engine: DockerCli, registry: Pick<Registry, "address">, options: PushOptions = {}): Promise<string> {
  const reference = `${registry.address}/${options.repository ?? "bb"}:${options.tag ?? "1"}`;
  for (const args of [["tag", options.source ?? "bb", reference], ["push", reference]]) {
    const r = await engine.docker(args, { timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`docker ${args.join(" ")} failed (${r.code}):\n${r.stdout}${r.stderr}`);
  }
  return reference;
}
