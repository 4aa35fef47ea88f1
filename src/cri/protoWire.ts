/**
 * The protobuf wire format at its lowest level: varints, tags, and a walk over a message's fields that keeps each
 * field's exact bytes (so that a rewrite can copy untouched and unknown fields as they came).
 */

/** Wire types: 0 varint, 1 64-bit, 2 length-delimited, 5 32-bit (3 and 4, groups, are not used by proto3). */
export type WireType = 0 | 1 | 2 | 5;

/** One field occurrence in a message's bytes. */
export interface RawField {
  /** The field number. */
  readonly no: number;
  /** Its wire type. */
  readonly wire: WireType;
  /** Where the field starts (its tag). */
  readonly start: number;
  /** Where its value starts (for wire type 2: the payload, after the length). */
  readonly valueStart: number;
  /** Where it ends (exclusive). */
  readonly end: number;
}

/** The bytes are not a valid protobuf message. */
export class ProtoWireError extends Error {
  override name = "ProtoWireError";
}

const two32 = 2 ** 32;
/** The largest field number protobuf allows (2^29 - 1). */
const maxFieldNumber = 0x1fffffff;

/** Reads a varint at `pos`: its value (a number up to 2^53, else a bigint of the 64-bit pattern) and the next position. */
export function readVarint(buf: Uint8Array, pos: number): { value: number | bigint; next: number } {
  let low = 0;
  let shift = 0;
  let i = pos;
  // the first 4 bytes (28 bits) in plain arithmetic, the common case
  for (; shift < 28; shift += 7) {
    if (i >= buf.length) throw new ProtoWireError("truncated varint");
    const b = buf[i++]!;
    low |= (b & 0x7f) << shift;
    if (b < 0x80) return { value: low >>> 0, next: i };
  }
  let value = BigInt(low >>> 0);
  for (let big = 28n; big < 70n; big += 7n) {
    if (i >= buf.length) throw new ProtoWireError("truncated varint");
    const b = buf[i++]!;
    value |= BigInt(b & 0x7f) << big;
    if (b < 0x80) {
      value = BigInt.asUintN(64, value);
      return { value: value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value, next: i };
    }
  }
  throw new ProtoWireError("varint longer than 10 bytes");
}

/** Every field occurrence of the message in `buf`, in order. Throws ProtoWireError on malformed bytes. */
export function walkFields(buf: Uint8Array): RawField[] {
  const fields: RawField[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const start = pos;
    const tag = readVarint(buf, pos);
    const key = Number(tag.value);
    const no = Math.floor(key / 8);
    const wire = key & 7;
    pos = tag.next;
    if (no < 1 || no > maxFieldNumber) throw new ProtoWireError(`field number ${no} at byte ${start} (field numbers are 1 to ${maxFieldNumber})`);
    let valueStart = pos;
    switch (wire) {
      case 0:
        pos = readVarint(buf, pos).next;
        break;
      case 1:
        pos += 8;
        break;
      case 5:
        pos += 4;
        break;
      case 2: {
        const length = readVarint(buf, pos);
        valueStart = length.next;
        pos = valueStart + Number(length.value);
        break;
      }
      default:
        throw new ProtoWireError(`wire type ${wire} (field ${no}) is not used by proto3`);
    }
    if (pos > buf.length) throw new ProtoWireError(`field ${no} runs past the end of the message`);
    fields.push({ no, wire: wire as WireType, start, valueStart, end: pos });
  }
  return fields;
}

/** Builds protobuf bytes from parts. */
export class ProtoWriter {
  private readonly parts: Uint8Array[] = [];
  private pending: number[] = [];
  /** Bytes written so far. */
  length = 0;

  private flush(): void {
    if (this.pending.length) {
      this.parts.push(Uint8Array.from(this.pending));
      this.pending = [];
    }
  }

  /** Writes a varint of an unsigned value or of a signed value's 64-bit two's complement. */
  varint(value: number | bigint): this {
    if (typeof value === "number" && value >= 0 && value < two32) {
      let v = value;
      while (v >= 0x80) {
        this.pending.push((v & 0x7f) | 0x80);
        v >>>= 7;
        this.length++;
      }
      this.pending.push(v);
      this.length++;
      return this;
    }
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.pending.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
      this.length++;
    }
    this.pending.push(Number(v));
    this.length++;
    return this;
  }

  /** Writes a field's tag. */
  tag(no: number, wire: WireType): this {
    return this.varint(no * 8 + wire);
  }

  /** Writes bytes as they are. */
  raw(bytes: Uint8Array): this {
    if (bytes.length === 0) return this;
    this.flush();
    this.parts.push(bytes);
    this.length += bytes.length;
    return this;
  }

  /** Writes a length-delimited field: tag, length, payload. */
  delimited(no: number, payload: Uint8Array): this {
    return this.tag(no, 2).varint(payload.length).raw(payload);
  }

  /** The bytes written. */
  finish(): Buffer {
    this.flush();
    return Buffer.concat(this.parts, this.length);
  }
}
