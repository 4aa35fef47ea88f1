/**
 * HostConfig.Binds: "volume:/dest[:ro]" or "/host/path:/dest[:ro]" turned into bind mounts.
 */
import { isAbsolute, join } from "node:path";
import { badRequest } from "./httpErrors.js";
import type { OciMount } from "./ociSpec.js";

/** One parsed bind. */
export interface Bind {
  /** Volume name, when the source is a named volume. */
  volume?: string;
  /** Host path mounted. */
  source: string;
  /** Path inside the container. */
  destination: string;
  /** Mounted read-only. */
  readonly: boolean;
}

/** The data directory of volume `name`. */
export function volumeDataDir(volumesDir: string, name: string): string {
  return join(volumesDir, name, "_data");
}

/** Parses HostConfig.Binds; a malformed entry is a 400. */
export function parseBinds(binds: readonly string[], volumesDir: string): Bind[] {
  return binds.map((spec) => {
    const [src, destination, mode = "rw", ...rest] = spec.split(":");
    if (!src || !destination || !isAbsolute(destination) || rest.length > 0 || !/^(rw|ro)$/.test(mode)) {
      throw badRequest(`invalid volume specification: '${spec}'`);
    }
    const readonly = mode === "ro";
    if (isAbsolute(src)) return { source: src, destination, readonly };
    return { volume: src, source: volumeDataDir(volumesDir, src), destination, readonly };
  });
}

/** The OCI mounts for parsed binds. */
export function bindMounts(binds: readonly Bind[]): OciMount[] {
  return binds.map((b) => ({
    destination: b.destination,
    type: "bind",
    source: b.source,
    options: ["rbind", b.readonly ? "ro" : "rw"],
  }));
}
