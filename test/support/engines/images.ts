/**
 * The busybox images the engine harnesses use, made from this machine's busybox (Debian: busybox-static), with no
 * registry and no network: `bb` through the docker CLI with the README's script (dockerd, Podman's Docker API), and
 * a docker-archive tarball with PATH and a command of its own (containerd's `ctr images import`, `docker load`,
 * `podman load`), which also serves as the CRI sandbox image.
 */
import { createHash } from "node:crypto";
import { chmod, copyFile, mkdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runCommand } from "./processes.js";
import { findExecutable } from "../tools.js";

/** The script the README uses to make the local image: busybox's root filesystem through `docker import`. */
export const busyboxImageScript = join(dirname(fileURLToPath(import.meta.url)), "../../../scripts/busybox-image.sh");

/** Imports busybox as image `name` (default "bb") with the README's script, through the docker CLI `dockerBin` and `env`'s DOCKER_HOST. */
export async function importBusybox(env: NodeJS.ProcessEnv, dockerBin: string, name = "bb"): Promise<void> {
  const imported = await runCommand("/bin/sh", [busyboxImageScript, name], { ...env, DOCKER: dockerBin }, 60_000);
  if (imported.code !== 0) throw new Error(`scripts/busybox-image.sh failed: ${imported.stderr}`);
}

/** What goes into a busybox docker-archive besides the root filesystem. */
export interface BusyboxArchiveOptions {
  /** The image name it loads as (default "localhost/hookplugins-busybox:1"). */
  name?: string;
  /** The image's command (default `["/bin/sleep", "3600"]`, which keeps a CRI sandbox alive). */
  cmd?: readonly string[];
  /** The image's environment (default PATH only). */
  env?: readonly string[];
}

/** The image name `writeBusyboxArchive` gives by default. */
export const defaultBusyboxArchiveName = "localhost/hookplugins-busybox:1";

const sha256 = (data: Buffer | string): string => createHash("sha256").update(data).digest("hex");

/** The OCI architecture of this machine ("amd64", "arm64"...). */
export function ociArch(): string {
  return ({ x64: "amd64", ia32: "386", arm64: "arm64", arm: "arm", ppc64: "ppc64le", s390x: "s390x" } as Record<string, string>)[process.arch] ?? process.arch;
}

/**
 * Writes a docker-archive tarball to `file`: one layer holding busybox and a link per applet in /bin, and an image
 * config with PATH and `cmd`. Uses `work` (created, then removed) for the pieces. Returns the image name.
 */
export async function writeBusyboxArchive(file: string, work: string, options: BusyboxArchiveOptions = {}): Promise<string> {
  const name = options.name ?? defaultBusyboxArchiveName;
  const busybox = findExecutable("busybox");
  if (!busybox) throw new Error("busybox not found; install it (apt-get install -y busybox-static)");
  const rootfs = join(work, "rootfs");
  const archive = join(work, "archive");
  for (const sub of ["bin", "tmp", "etc", "proc", "sys", "dev", "data"]) await mkdir(join(rootfs, sub), { recursive: true });
  await mkdir(archive, { recursive: true });
  await chmod(join(rootfs, "tmp"), 0o1777);
  await copyFile(busybox, join(rootfs, "bin/busybox"));
  await chmod(join(rootfs, "bin/busybox"), 0o755);
  const applets = await runCommand(busybox, ["--list"], process.env, 10_000);
  for (const applet of applets.stdout.split("\n").filter((a) => a && a !== "busybox")) await symlink("busybox", join(rootfs, "bin", applet));
  const tarred = await runCommand("tar", ["--numeric-owner", "-C", rootfs, "-c", "-f", join(archive, "layer.tar"), "."], process.env, 60_000);
  if (tarred.code !== 0) throw new Error(`tar of the busybox root filesystem failed: ${tarred.stderr}`);
  const config = JSON.stringify({
    architecture: ociArch(),
    os: "linux",
    created: new Date(0).toISOString(),
    config: { Env: [...(options.env ?? ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"])], Cmd: [...(options.cmd ?? ["/bin/sleep", "3600"])] },
    rootfs: { type: "layers", diff_ids: [`sha256:${sha256(await readFile(join(archive, "layer.tar")))}`] },
  });
  const configName = `${sha256(config)}.json`;
  await writeFile(join(archive, configName), config);
  await writeFile(join(archive, "manifest.json"), JSON.stringify([{ Config: configName, RepoTags: [name], Layers: ["layer.tar"] }]));
  const packed = await runCommand("tar", ["-C", archive, "-c", "-f", file, "manifest.json", configName, "layer.tar"], process.env, 60_000);
  if (packed.code !== 0) throw new Error(`tar of the busybox image archive failed: ${packed.stderr}`);
  await rm(work, { recursive: true, force: true });
  return name;
}
