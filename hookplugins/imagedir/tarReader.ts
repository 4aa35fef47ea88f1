/**
 * A small reader of tar archives held in memory (ustar, GNU long names, pax path/linkpath/size): it lists the
 * entries of an image layer, checking every header's checksum. It does not write anything (see unpackLayer.ts).
 */

/** The kinds of entry an image layer can hold that imagedir unpacks; "other" is a device, fifo or unknown type. */
export type TarEntryType = "file" | "directory" | "symlink" | "hardlink" | "other";

/** One entry of a tar archive. */
export interface TarEntry {
  /** The path as stored (pax or GNU long names applied), without a leading "./". */
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

/** A tar archive that cannot be read: truncated, a bad header checksum, a bad number field. */
export class TarFormatError extends Error {
  override name = "TarFormatError";
}

const block = 512;

function text(header: Buffer, start: number, length: number): string {
  const field = header.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? field.length : end).toString("utf8");
}

/** A numeric header field: octal text, or GNU's base-256 when the first byte's high bit is set. */
function number(header: Buffer, start: number, length: number, offset: number): number {
  const first = header[start] ?? 0;
  if (first & 0x80) {
    let value = first & 0x7f;
    for (let i = start + 1; i < start + length; i++) value = value * 256 + (header[i] ?? 0);
    return value;
  }
  const digits = text(header, start, length).trim();
  if (digits === "") return 0;
  if (!/^[0-7]+$/.test(digits)) throw new TarFormatError(`bad number field ${JSON.stringify(digits)} in the header at byte ${offset}`);
  return Number.parseInt(digits, 8);
}

function checksumOk(header: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < block; i++) sum += i >= 148 && i < 156 ? 0x20 : (header[i] ?? 0);
  try {
    return sum === number(header, 148, 8, 0);
  } catch {
    return false;
  }
}

/** The records of a pax extended header ("<len> key=value\n" ...). */
function paxRecords(data: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space === -1) break;
    const length = Number.parseInt(data.subarray(at, space).toString("ascii"), 10);
    if (!Number.isInteger(length) || length <= 0) break;
    const record = data.subarray(space + 1, at + length - 1).toString("utf8");
    const eq = record.indexOf("=");
    if (eq > 0) records.set(record.slice(0, eq), record.slice(eq + 1));
    at += length;
  }
  return records;
}

const types: Readonly<Record<string, TarEntryType>> = { "0": "file", "\0": "file", "7": "file", "1": "hardlink", "2": "symlink", "5": "directory" };

/** Every entry of the tar archive in `archive`; throws TarFormatError when it is not a readable tar archive. */
export function readTar(archive: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax = new Map<string, string>();
  for (let offset = 0; offset + block <= archive.length; ) {
    const header = archive.subarray(offset, offset + block);
    if (header.every((byte) => byte === 0)) return entries; // end of archive
    if (!checksumOk(header)) throw new TarFormatError(`bad header checksum at byte ${offset}: not a tar archive, or a damaged one`);
    const flag = String.fromCharCode(header[156] ?? 0);
    const size = Number(pax.get("size") ?? number(header, 124, 12, offset));
    const dataStart = offset + block;
    if (dataStart + size > archive.length) throw new TarFormatError(`the archive ends inside the entry at byte ${offset} (${size} bytes announced)`);
    const data = archive.subarray(dataStart, dataStart + size);
    offset = dataStart + Math.ceil(size / block) * block;
    if (flag === "L") longName = text(data, 0, data.length);
    else if (flag === "K") longLink = text(data, 0, data.length);
    else if (flag === "x") pax = paxRecords(data);
    else if (flag !== "g") {
      const prefix = text(header, 257, 6).startsWith("ustar") ? text(header, 345, 155) : "";
      const stored = pax.get("path") ?? longName ?? (prefix ? `${prefix}/${text(header, 0, 100)}` : text(header, 0, 100));
      entries.push({
        path: stored.replace(/^(\.\/|\/)+/, "").replace(/\/+$/, ""),
        type: types[flag] ?? "other",
        mode: number(header, 100, 8, offset) & 0o7777,
        uid: number(header, 108, 8, offset),
        gid: number(header, 116, 8, offset),
        mtime: number(header, 136, 12, offset),
        linkname: pax.get("linkpath") ?? longLink ?? text(header, 157, 100),
        data: types[flag] === "file" ? data : Buffer.alloc(0),
      });
      longName = longLink = undefined;
      pax = new Map();
    }
  }
  throw new TarFormatError("the archive ends without its end-of-archive blocks: it is truncated");
}
