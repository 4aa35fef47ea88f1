/**
 * The entries of an image layer's tar archive, read with node-tar's parser (ustar, pax and GNU long names, header
 * checksums; strict, so a damaged archive is an error, never a skipped entry) into the shape unpackLayer.ts writes
 * from. Reading only: nothing is written here.
 */
import { Parser, type ReadEntry } from "tar";

/** The kinds of entry an image layer can hold that imagedir unpacks; "other" is a device, fifo or unknown type. */
export type TarEntryType = "file" | "directory" | "symlink" | "hardlink" | "other";

/** One entry of a tar archive. */
export interface TarEntry {
  /** The path as stored (pax or GNU long names applied), without a leading "./" or "/". */
  readonly path: string;
  /** What the entry is. */
  readonly type: TarEntryType;
  /** Permission bits (and setuid/setgid/sticky). */
  readonly mode: number;
  /** Owner. */
  readonly uid: number;
  /** Group. */
  readonly gid: number;
  /** Modification time, seconds since the epoch. */
  readonly mtime: number;
  /** Symlink or hardlink target. */
  readonly linkname: string;
  /** The contents of a regular file (empty otherwise). */
  readonly data: Buffer;
}

/** A tar archive that cannot be read: truncated, a bad header checksum, not a tar archive at all. */
export class TarFormatError extends Error {
  override name = "TarFormatError";
}

/** node-tar's entry types as imagedir's. */
const types: Readonly<Partial<Record<ReadEntry["type"], TarEntryType>>> = {
  File: "file",
  OldFile: "file",
  ContiguousFile: "file",
  Link: "hardlink",
  SymbolicLink: "symlink",
  Directory: "directory",
};

/** One entry and its data as a TarEntry. */
function entryOf(entry: ReadEntry, data: Buffer): TarEntry {
  const type = types[entry.type] ?? "other";
  return {
    path: entry.path.replace(/^(\.\/|\/)+/, "").replace(/\/+$/, ""),
    type,
    mode: (entry.mode ?? 0) & 0o7777,
    uid: entry.uid ?? 0,
    gid: entry.gid ?? 0,
    mtime: Math.floor((entry.mtime?.getTime() ?? 0) / 1000),
    linkname: entry.linkpath ?? "",
    data: type === "file" ? data : Buffer.alloc(0),
  };
}

/** Every entry of the tar archive in `archive`; rejects with TarFormatError when it is not a readable tar archive. */
export function readTar(archive: Buffer): Promise<TarEntry[]> {
  return new Promise((resolve, reject) => {
    const entries: TarEntry[] = [];
    let failed = false;
    const fail = (message: string, cause?: unknown): void => {
      if (failed) return;
      failed = true;
      reject(new TarFormatError(`${message}: not a tar archive, or a damaged one`, { cause }));
    };
    const parser = new Parser({
      strict: true,
      onReadEntry(entry) {
        const chunks: Buffer[] = [];
        entry.on("data", (chunk: Buffer) => chunks.push(chunk));
        entry.on("end", () => entries.push(entryOf(entry, Buffer.concat(chunks))));
      },
    });
    // the two zero blocks that end every archive (Go's archive/tar and GNU tar write them): without them it was cut
    let ended = false;
    parser.on("eof", () => (ended = true));
    parser.on("error", (error: Error) => fail(error.message, error));
    parser.on("end", () => {
      if (failed) return;
      if (!ended) fail("the archive ends without its end-of-archive blocks, so it is truncated");
      else resolve(entries);
    });
    parser.end(archive);
  });
}
