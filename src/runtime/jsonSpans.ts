/**
 * Where values sit in a JSON text, so that one value can be replaced while every other byte stays as it was (numbers
 * beyond 2^53, key order, spacing: JSON.parse + JSON.stringify would change them). The text must be valid JSON
 * (check it with JSON.parse first): these functions only skip over it.
 */

/** A value's place in the text: `text.slice(start, end)` is the value. */
export interface JsonSpan {
  /** Index of its first character. */
  readonly start: number;
  /** Index after its last character. */
  readonly end: number;
}

/** One member of an object: its key (decoded) and its value's span. */
export interface JsonMember {
  /** The key. */
  readonly key: string;
  /** The value. */
  readonly value: JsonSpan;
}

/** Index of the first character at or after `i` that is not JSON whitespace. */
export function skipWhitespace(text: string, i: number): number {
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
  }
  return i;
}

/** Index after the string starting at `i` (a `"`). */
function skipString(text: string, i: number): number {
  for (i++; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) i++;
    else if (c === 0x22) return i + 1;
  }
  throw new SyntaxError("unterminated JSON string");
}

/** Index after the value starting at `i`. */
export function skipValue(text: string, i: number): number {
  const c = text[i];
  if (c === '"') return skipString(text, i);
  if (c === "{" || c === "[") {
    let depth = 0;
    for (; i < text.length; i++) {
      const d = text[i];
      if (d === '"') i = skipString(text, i) - 1;
      else if (d === "{" || d === "[") depth++;
      else if (d === "}" || d === "]") {
        depth--;
        if (depth === 0) return i + 1;
      }
    }
    throw new SyntaxError("unterminated JSON object or array");
  }
  let j = i;
  while (j < text.length && !/[\s,\]}]/.test(text[j]!)) j++;
  if (j === i) throw new SyntaxError(`no JSON value at ${i}`);
  return j;
}

/**
 * The items of the object or array whose opening bracket is at `start` (`open`), each read by `item` from its first
 * character (returning the item and the index after it), and the index after the closing bracket.
 */
function items<T>(text: string, start: number, open: "{" | "[", item: (at: number) => [T, number]): { items: T[]; end: number } {
  if (text[start] !== open) throw new SyntaxError(`no JSON ${open === "{" ? "object" : "array"} at ${start}`);
  const close = open === "{" ? "}" : "]";
  const found: T[] = [];
  let i = skipWhitespace(text, start + 1);
  if (text[i] === close) return { items: found, end: i + 1 };
  for (;;) {
    const [value, after] = item(i);
    found.push(value);
    i = skipWhitespace(text, after);
    if (text[i] === close) return { items: found, end: i + 1 };
    i = skipWhitespace(text, i + 1); // past ','
  }
}

/** The members of the object whose `{` is at `start`, in text order, and the index after its `}`. */
export function objectMembers(text: string, start: number): { members: JsonMember[]; end: number } {
  const { items: members, end } = items(text, start, "{", (at): [JsonMember, number] => {
    const keyEnd = skipString(text, at);
    const key = JSON.parse(text.slice(at, keyEnd)) as string;
    const valueStart = skipWhitespace(text, skipWhitespace(text, keyEnd) + 1); // past ':'
    const valueEnd = skipValue(text, valueStart);
    return [{ key, value: { start: valueStart, end: valueEnd } }, valueEnd];
  });
  return { members, end };
}

/** The elements of the array whose `[` is at `start`, and the index after its `]`. */
export function arrayElements(text: string, start: number): { elements: JsonSpan[]; end: number } {
  const { items: elements, end } = items(text, start, "[", (at): [JsonSpan, number] => {
    const valueEnd = skipValue(text, at);
    return [{ start: at, end: valueEnd }, valueEnd];
  });
  return { elements, end };
}

/** The member `key` of an object (the last one, as JSON.parse keeps the last of duplicate keys), or undefined. */
export function lastMember(members: readonly JsonMember[], key: string): JsonMember | undefined {
  for (let i = members.length - 1; i >= 0; i--) if (members[i]!.key === key) return members[i];
  return undefined;
}
