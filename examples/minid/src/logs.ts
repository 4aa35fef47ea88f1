/**
 * Container logs: captured output is stored one JSON record per line, and served in the Engine's
 * stream format (8-byte multiplexing headers when the container has no TTY, raw bytes otherwise).
 */
import { appendFileSync } from "node:fs";
import { readFile } from "node:fs/promises";

/** Stream number as the multiplexed format spells it. */
export type StreamType = 1 | 2;

/** One captured chunk of output. */
export interface LogRecord {
  /** 1 = stdout, 2 = stderr. */
  stream: StreamType;
  /** ISO time the daemon received it. */
  time: string;
  /** The bytes. */
  data: Buffer;
}

/** Appends a chunk to the log file `path` and returns the record. */
export function appendLog(path: string, stream: StreamType, data: Buffer): LogRecord {
  const record: LogRecord = { stream, time: new Date().toISOString(), data };
  appendFileSync(path, `${JSON.stringify({ s: stream, t: record.time, d: data.toString("base64") })}\n`);
  return record;
}

/** Every record of the log file `path` (none when it does not exist yet). */
export async function readLog(path: string): Promise<LogRecord[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return [];
  }
  const records: LogRecord[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    const raw = JSON.parse(line) as { s: StreamType; t: string; d: string };
    records.push({ stream: raw.s, time: raw.t, data: Buffer.from(raw.d, "base64") });
  }
  return records;
}

/** Which records `docker logs` asked for. */
export interface LogQuery {
  /** Include stdout. */
  stdout: boolean;
  /** Include stderr. */
  stderr: boolean;
  /** Prefix each line with its RFC 3339 time. */
  timestamps: boolean;
  /** Keep only the last n lines ("all" = undefined). */
  tail?: number;
}

/** Splits records into lines (the unit of `--tail`), keeping their stream and time. */
function toLines(records: readonly LogRecord[]): LogRecord[] {
  const lines: LogRecord[] = [];
  for (const record of records) {
    let start = 0;
    for (let i = 0; i < record.data.length; i++) {
      if (record.data[i] === 0x0a) {
        lines.push({ ...record, data: record.data.subarray(start, i + 1) });
        start = i + 1;
      }
    }
    if (start < record.data.length) lines.push({ ...record, data: record.data.subarray(start) });
  }
  return lines;
}

/** The records a query selects, as lines, with timestamps applied. */
export function selectLog(records: readonly LogRecord[], query: LogQuery): LogRecord[] {
  let lines = toLines(records).filter((r) => (r.stream === 1 ? query.stdout : query.stderr));
  if (query.tail !== undefined) lines = query.tail === 0 ? [] : lines.slice(-query.tail);
  if (!query.timestamps) return lines;
  return lines.map((r) => ({ ...r, data: Buffer.concat([Buffer.from(`${r.time} `), r.data]) }));
}

/** One frame of the multiplexed stream: [stream, 0, 0, 0, size (uint32 big endian)] + payload. */
export function frame(stream: StreamType, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt8(stream, 0);
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** Decodes a multiplexed stream back into records (for tests and clients). */
export function demultiplex(body: Buffer): Array<{ stream: StreamType; data: Buffer }> {
  const out: Array<{ stream: StreamType; data: Buffer }> = [];
  let offset = 0;
  while (offset + 8 <= body.length) {
    const stream = body.readUInt8(offset) as StreamType;
    const size = body.readUInt32BE(offset + 4);
    out.push({ stream, data: body.subarray(offset + 8, offset + 8 + size) });
    offset += 8 + size;
  }
  return out;
}
