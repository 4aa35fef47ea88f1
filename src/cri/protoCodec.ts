/**
 * A small protobuf codec driven by the generated field tables (criSchema.generated.ts): decode a message into a plain
 * object with the proto's field names, encode one, and rewrite a message's bytes so that only the fields whose value
 * changed are re-encoded. Every other field, including fields this proto version does not know, keeps its exact bytes.
 * A 64-bit integer decodes to a number when a number holds it exactly and to a bigint beyond Number.MAX_SAFE_INTEGER
 * (encoding takes either back); an integer outside its field's range is refused, never wrapped.
 */
import type { FieldSpec, MessageSchema } from "./protoSchema.js";
import { ProtoWireError, ProtoWriter, readVarint, walkFields, type RawField, type WireType } from "./protoWire.js";

/** The message tables a codec works with, by proto name. */
export type SchemaSet = Readonly<Record<string, MessageSchema>>;

/** A decoded message: field name to value. */
export type DecodedMessage = Record<string, unknown>;

const varintScalars = new Set(["bool", "int32", "int64", "uint32", "uint64", "enum"]);
const fixed64Scalars = new Set(["fixed64", "sfixed64", "double"]);
const fixed32Scalars = new Set(["fixed32", "sfixed32", "float"]);
const utf8 = new TextDecoder("utf-8");
const maxSafe = BigInt(Number.MAX_SAFE_INTEGER);

/** The values each integer type holds; a value outside them is refused, never wrapped. */
const integerRanges: Readonly<Record<string, readonly [bigint, bigint]>> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  sfixed32: [-(2n ** 31n), 2n ** 31n - 1n],
  enum: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  fixed32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  sfixed64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  fixed64: [0n, 2n ** 64n - 1n],
};

/** A 64-bit integer as a number when a number holds it exactly, else as a bigint (never rounded). */
function exact(value: bigint): number | bigint {
  return value >= -maxSafe && value <= maxSafe ? Number(value) : value;
}

/** The wire type a value of `type` is encoded with (unpacked). */
function wireOf(schemas: SchemaSet, type: string): WireType {
  if (varintScalars.has(type)) return 0;
  if (fixed64Scalars.has(type)) return 1;
  if (fixed32Scalars.has(type)) return 5;
  if (type === "string" || type === "bytes" || schemas[type]) return 2;
  throw new ProtoWireError(`unknown type ${type}`);
}

/**
 * A varint as the scalar `type` reads it. A 64-bit value beyond Number.MAX_SAFE_INTEGER (either sign) is a bigint, so
 * that no value is rounded; every other integer is a number.
 */
function fromVarint(type: string, raw: number | bigint): number | boolean | bigint {
  if (type === "bool") return raw !== 0;
  if (type === "int32" || type === "enum") return Number(BigInt.asIntN(32, BigInt(raw)));
  if (type === "uint32") return Number(BigInt.asUintN(32, BigInt(raw)));
  if (typeof raw === "number") return raw;
  return type === "int64" ? exact(BigInt.asIntN(64, raw)) : raw;
}

function fromFixed(type: string, buf: Uint8Array, pos: number): number | bigint {
  const view = new DataView(buf.buffer, buf.byteOffset + pos);
  switch (type) {
    case "double":
      return view.getFloat64(0, true);
    case "float":
      return view.getFloat32(0, true);
    case "fixed32":
      return view.getUint32(0, true);
    case "sfixed32":
      return view.getInt32(0, true);
    case "fixed64":
      return exact(view.getBigUint64(0, true));
    default:
      return exact(view.getBigInt64(0, true));
  }
}

/** One value of a non-packed occurrence. */
function readValue(schemas: SchemaSet, type: string, buf: Uint8Array, field: RawField): unknown {
  const expected = wireOf(schemas, type);
  if (field.wire !== expected) throw new ProtoWireError(`field ${field.no} has wire type ${field.wire}, ${type} needs ${expected}`);
  if (field.wire === 0) return fromVarint(type, readVarint(buf, field.valueStart).value);
  if (field.wire !== 2) return fromFixed(type, buf, field.valueStart);
  const payload = buf.subarray(field.valueStart, field.end);
  if (type === "string") return utf8.decode(payload);
  if (type === "bytes") return Uint8Array.from(payload);
  return decodeMessage(schemas, type, payload);
}

/** The values of a packed repeated scalar. */
function readPacked(type: string, payload: Uint8Array): unknown[] {
  const values: unknown[] = [];
  let pos = 0;
  while (pos < payload.length) {
    if (varintScalars.has(type)) {
      const v = readVarint(payload, pos);
      values.push(fromVarint(type, v.value));
      pos = v.next;
    } else {
      const size = fixed64Scalars.has(type) ? 8 : 4;
      if (pos + size > payload.length) throw new ProtoWireError(`packed ${type} values: ${payload.length} bytes is not a whole number of ${size}-byte values`);
      values.push(fromFixed(type, payload, pos));
      pos += size;
    }
  }
  return values;
}

function setKey(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/**
 * Decodes the message `name` from `buf`: every known field that is on the wire, plus every repeated field (an empty
 * array when absent) and every map (an empty object). Unknown fields are skipped. A message field that occurs more
 * than once is merged, as protobuf requires.
 */
export function decodeMessage(schemas: SchemaSet, name: string, buf: Uint8Array): DecodedMessage {
  const schema = schemas[name];
  if (!schema) throw new ProtoWireError(`unknown message ${name}`);
  const out: DecodedMessage = {};
  const byNumber = new Map<number, FieldSpec>();
  for (const spec of schema) {
    byNumber.set(spec[1], spec);
    if (spec[3] === 1) out[spec[0]] = [];
    else if (spec[3] === 2) out[spec[0]] = {};
  }
  const messageParts = new Map<string, Uint8Array[]>();
  for (const field of walkFields(buf)) {
    const spec = byNumber.get(field.no);
    if (!spec) continue;
    const [fieldName, , type, label] = spec;
    if (label === 2) {
      const entry = decodeMapEntry(schemas, type, buf.subarray(field.valueStart, field.end));
      setKey(out[fieldName] as Record<string, unknown>, entry.key, entry.value);
    } else if (label === 1) {
      const list = out[fieldName] as unknown[];
      if (field.wire === 2 && type !== "string" && type !== "bytes" && !schemas[type]) list.push(...readPacked(type, buf.subarray(field.valueStart, field.end)));
      else list.push(readValue(schemas, type, buf, field));
    } else if (schemas[type]) {
      if (field.wire !== 2) throw new ProtoWireError(`field ${field.no} (${fieldName}) is a message but has wire type ${field.wire}`);
      const parts = messageParts.get(fieldName) ?? [];
      parts.push(buf.subarray(field.valueStart, field.end));
      messageParts.set(fieldName, parts);
    } else {
      out[fieldName] = readValue(schemas, type, buf, field);
    }
  }
  for (const [fieldName, parts] of messageParts) {
    const type = schema.find((s) => s[0] === fieldName)![2];
    out[fieldName] = decodeMessage(schemas, type, parts.length === 1 ? parts[0]! : Buffer.concat(parts));
  }
  return out;
}

function decodeMapEntry(schemas: SchemaSet, valueType: string, payload: Uint8Array): { key: string; value: unknown } {
  let key = "";
  let value: unknown = defaultOf(valueType, schemas);
  for (const field of walkFields(payload)) {
    if (field.no === 1) key = readValue(schemas, "string", payload, field) as string;
    else if (field.no === 2) value = readValue(schemas, valueType, payload, field);
  }
  return { key, value };
}

function defaultOf(type: string, schemas: SchemaSet): unknown {
  if (type === "string") return "";
  if (type === "bool") return false;
  if (type === "bytes") return new Uint8Array(0);
  if (schemas[type]) return {};
  return 0;
}

function isDefault(value: unknown): boolean {
  return value === undefined || value === null || value === "" || value === 0 || value === 0n || value === false || (value instanceof Uint8Array && value.length === 0);
}

function writeScalar(w: ProtoWriter, type: string, value: unknown): void {
  if (type === "bool") {
    w.varint(value ? 1 : 0);
    return;
  }
  const range = integerRanges[type];
  if (typeof value === "bigint") {
    // a bigint is how the codec gives 64-bit values beyond Number.MAX_SAFE_INTEGER; it takes them back the same way
    if (!range || range[1] < 2n ** 32n) throw new TypeError(`a ${type} field needs a number, got the bigint ${value}`);
  } else if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new TypeError(`a ${type} field needs a finite number, got ${typeof value === "string" ? JSON.stringify(value) : String(value)}`);
  } else if (range && !Number.isInteger(value)) {
    throw new TypeError(`a ${type} field needs a whole number, got ${value}`);
  }
  if (range) {
    const whole = BigInt(value);
    if (whole < range[0] || whole > range[1]) throw new TypeError(`${value} is outside the range of a ${type} field (${range[0]} to ${range[1]})`);
  }
  if (varintScalars.has(type)) {
    w.varint(value as number | bigint);
    return;
  }
  const bytes = new Uint8Array(fixed64Scalars.has(type) ? 8 : 4);
  const view = new DataView(bytes.buffer);
  if (type === "double") view.setFloat64(0, value as number, true);
  else if (type === "float") view.setFloat32(0, value as number, true);
  else if (type === "fixed32") view.setUint32(0, value as number, true);
  else if (type === "sfixed32") view.setInt32(0, value as number, true);
  else view.setBigUint64(0, BigInt.asUintN(64, BigInt(value as number | bigint)), true);
  w.raw(bytes);
}

/** Writes one value of `type` as field `no` (always, even a default). */
function writeOne(schemas: SchemaSet, w: ProtoWriter, no: number, type: string, value: unknown, where: string): void {
  if (type === "string") {
    if (typeof value !== "string") throw new TypeError(`${where} must be a string, got ${JSON.stringify(value)}`);
    w.delimited(no, Buffer.from(value, "utf8"));
  } else if (type === "bytes") {
    if (!(value instanceof Uint8Array)) throw new TypeError(`${where} must be a Uint8Array`);
    w.delimited(no, value);
  } else if (schemas[type]) {
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new TypeError(`${where} must be an object (a ${type} message)`);
    w.delimited(no, encodeMessage(schemas, type, value as DecodedMessage, where));
  } else {
    w.tag(no, wireOf(schemas, type));
    try {
      writeScalar(w, type, value);
    } catch (error) {
      throw new TypeError(`${where}: ${(error as Error).message}`);
    }
  }
}

/** Writes field `spec` with `value` (nothing for a proto3 default, an empty list or map). */
function writeField(schemas: SchemaSet, w: ProtoWriter, spec: FieldSpec, value: unknown, where: string): void {
  const [name, no, type, label] = spec;
  const at = `${where}.${name}`;
  if (value === undefined || value === null) return;
  if (label === 1) {
    if (!Array.isArray(value)) throw new TypeError(`${at} must be an array`);
    if (value.length === 0) return;
    if (wireOf(schemas, type) !== 2) {
      const packed = new ProtoWriter();
      value.forEach((item, i) => {
        try {
          writeScalar(packed, type, item);
        } catch (error) {
          throw new TypeError(`${at}[${i}]: ${(error as Error).message}`);
        }
      });
      w.delimited(no, packed.finish());
    } else value.forEach((item, i) => writeOne(schemas, w, no, type, item, `${at}[${i}]`));
  } else if (label === 2) {
    if (typeof value !== "object" || Array.isArray(value)) throw new TypeError(`${at} must be an object of ${type} values`);
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      const entry = new ProtoWriter();
      writeOne(schemas, entry, 1, "string", key, `${at} key`);
      writeOne(schemas, entry, 2, type, item, `${at}[${JSON.stringify(key)}]`);
      w.delimited(no, entry.finish());
    }
  } else if (schemas[type] || !isDefault(value)) {
    writeOne(schemas, w, no, type, value, at);
  }
}

/** Encodes `value` as the message `name`; fields the schema does not know are ignored. `where` prefixes messages. */
export function encodeMessage(schemas: SchemaSet, name: string, value: DecodedMessage, where: string = name): Buffer {
  const schema = schemas[name];
  if (!schema) throw new ProtoWireError(`unknown message ${name}`);
  const w = new ProtoWriter();
  for (const spec of schema) writeField(schemas, w, spec, value[spec[0]], where);
  return w.finish();
}

/** Whether two decoded values are equal (plain data: objects, arrays, strings, numbers, booleans, Uint8Array). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && Buffer.compare(a, b) === 0;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((item, i) => sameValue(item, bb[i]));
  }
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/**
 * The bytes of message `name` after the changes from `before` (as decoded from `raw`) to `after`: fields whose value
 * did not change keep their bytes from `raw`, unknown fields included; a changed message field is rewritten the same
 * way, one level down; any other changed field is encoded anew in place of its first occurrence. Returns `raw` itself
 * when nothing changed.
 */
export function rewriteMessage(schemas: SchemaSet, name: string, raw: Uint8Array, before: DecodedMessage, after: DecodedMessage, where: string = name): Uint8Array {
  const schema = schemas[name];
  if (!schema) throw new ProtoWireError(`unknown message ${name}`);
  const changed = schema.filter((spec) => !sameValue(before[spec[0]], after[spec[0]]));
  if (changed.length === 0) return raw;
  const fields = walkFields(raw);
  const replacements = new Map<number, Uint8Array>();
  for (const spec of changed) {
    const [fieldName, no, type, label] = spec;
    const w = new ProtoWriter();
    const old = before[fieldName];
    const now = after[fieldName];
    const occurrences = fields.filter((f) => f.no === no);
    if (label === 0 && schemas[type] && old && now && typeof now === "object") {
      const parts = occurrences.map((f) => raw.subarray(f.valueStart, f.end));
      const sub = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      w.delimited(no, rewriteMessage(schemas, type, sub, old as DecodedMessage, now as DecodedMessage, `${where}.${fieldName}`));
    } else if (label === 1 && schemas[type] && Array.isArray(old) && Array.isArray(now) && old.length === occurrences.length) {
      // one occurrence per element: an element equal to one of the request's keeps that element's bytes; an element
      // changed in place (its position's original equal to no element of the result) is rewritten from that original's
      // bytes, so the fields the plugin did not touch in it (unknown ones too) are kept
      const unused = new Set(old.map((_, i) => i));
      const matched = now.map((item) => {
        for (const j of unused) {
          if (!sameValue(old[j], item)) continue;
          unused.delete(j);
          return j;
        }
        return -1;
      });
      now.forEach((item, i) => {
        const j = matched[i]!;
        if (j !== -1) {
          const kept = occurrences[j]!;
          w.raw(raw.subarray(kept.start, kept.end));
        } else if (unused.has(i) && old[i] && item && typeof item === "object") {
          unused.delete(i);
          const original = occurrences[i]!;
          w.delimited(no, rewriteMessage(schemas, type, raw.subarray(original.valueStart, original.end), old[i] as DecodedMessage, item as DecodedMessage, `${where}.${fieldName}[${i}]`));
        } else {
          writeOne(schemas, w, no, type, item, `${where}.${fieldName}[${i}]`);
        }
      });
    } else if (label === 2 && old && now && typeof old === "object" && typeof now === "object") {
      // a map entry whose key and value are unchanged keeps its bytes (the last occurrence of a key is its value)
      const entries = new Map<string, RawField>();
      for (const f of occurrences) entries.set(decodeMapEntry(schemas, type, raw.subarray(f.valueStart, f.end)).key, f);
      const oldMap = old as Record<string, unknown>;
      for (const [key, item] of Object.entries(now as Record<string, unknown>)) {
        const kept = entries.get(key);
        if (kept && Object.hasOwn(oldMap, key) && sameValue(oldMap[key], item)) w.raw(raw.subarray(kept.start, kept.end));
        else writeField(schemas, w, [fieldName, no, type, 2], { [key]: item }, where);
      }
    } else {
      writeField(schemas, w, spec, now, where);
    }
    replacements.set(no, w.finish());
  }
  const out = new ProtoWriter();
  const done = new Set<number>();
  for (const field of fields) {
    const replacement = replacements.get(field.no);
    if (!replacement) out.raw(raw.subarray(field.start, field.end));
    else if (!done.has(field.no)) {
      out.raw(replacement);
      done.add(field.no);
    }
  }
  for (const [no, replacement] of replacements) if (!done.has(no)) out.raw(replacement);
  return out.finish();
}
