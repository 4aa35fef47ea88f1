/**
 * The copy a fail-open plugin works on: a deep copy specialised to plain JSON-like data (plain objects, arrays,
 * primitives), which is what configs are. Anything else (a Date, a Map, a class instance, a typed array, a cycle
 * or very deep nesting) makes the whole value go through `structuredClone` instead, so such values are copied
 * exactly as before.
 */

const MAX_DEPTH = 64;
const notPlain: unique symbol = Symbol("not plain data");

function copyPlain(value: unknown, depth: number): unknown {
  if (typeof value !== "object" || value === null) {
    // primitives are copied by value; a function is not data
    if (typeof value === "function") throw notPlain;
    return value;
  }
  if (depth > MAX_DEPTH) throw notPlain;
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) throw notPlain;
    const length = value.length;
    const out = new Array<unknown>(length);
    for (let i = 0; i < length; i++) {
      if (!(i in value)) throw notPlain; // holes: structuredClone keeps them
      out[i] = copyPlain(value[i], depth + 1);
    }
    return out;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) throw notPlain;
  const out: Record<string, unknown> = proto === null ? (Object.create(null) as Record<string, unknown>) : {};
  const source = value as Record<string, unknown>;
  for (const key in source) {
    // for..in on a plain object lists its own enumerable string keys (Object.prototype has none);
    // an own "__proto__" key (JSON.parse makes them) cannot be set by assignment
    if (key === "__proto__") throw notPlain;
    out[key] = copyPlain(source[key], depth + 1);
  }
  return out;
}

/** A deep copy of `value`: fast for plain data, `structuredClone` for anything else (which may throw). */
export function copyData(value: unknown): unknown {
  try {
    return copyPlain(value, 0);
  } catch (error) {
    if (error !== notPlain) throw error;
    return structuredClone(value);
  }
}
