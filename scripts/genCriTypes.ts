/**
 * Generates the CRI types and wire schema from the CRI API definition (kubernetes/cri-api v0.25.0,
 * `src/cri/proto/runtime/v1/api.proto`): `npm run gen:cri`.
 *
 * - `src/domain/criApi.generated.ts`: a TypeScript interface per message that a CRI plugin or the relay sees
 *   (everything reachable from the requests and replies the relay decodes), named `Cri<Message>`, with the
 *   proto's own field names (snake_case) and comments. Every field is optional.
 * - `src/cri/criSchema.generated.ts`: the same messages as field tables (name, number, type, label) for the relay's
 *   protobuf codec.
 *
 * The parser reads the subset of proto3 that api.proto uses: messages, enums (also nested in a message), singular,
 * repeated and map fields, field options in brackets, line comments. A test fails when either output is stale.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The proto file the outputs are generated from. */
export const criProtoPath = fileURLToPath(new URL("../src/cri/proto/runtime/v1/api.proto", import.meta.url));
/** Where the types go. */
export const criTypesPath = fileURLToPath(new URL("../src/domain/criApi.generated.ts", import.meta.url));
/** Where the wire schema goes. */
export const criSchemaPath = fileURLToPath(new URL("../src/cri/criSchema.generated.ts", import.meta.url));

/** The messages the relay decodes or encodes; the outputs hold these and every message they reach. */
export const rootMessages = [
  "CreateContainerRequest",
  "PullImageRequest",
  "PullImageResponse",
  "ImageStatusRequest",
  "ImageStatusResponse",
  "StatusRequest",
  "StatusResponse",
] as const;

/** One field of a parsed message. */
interface ProtoField {
  readonly name: string;
  readonly number: number;
  /** A scalar type name, or a message or enum name (qualified as Outer.Inner for nested enums). */
  readonly type: string;
  /** 0 singular, 1 repeated, 2 map<string, type>. */
  readonly label: 0 | 1 | 2;
  readonly doc: string[];
}

/** A parsed message or enum. */
interface ProtoDecl {
  readonly kind: "message" | "enum";
  readonly name: string;
  readonly doc: string[];
  readonly fields: ProtoField[];
  readonly values: { name: string; number: number; doc: string[] }[];
}

/** Each proto scalar's TypeScript type; 64-bit integers are numbers, or bigints beyond Number.MAX_SAFE_INTEGER (never rounded). */
const scalars: Record<string, string> = {
  string: "string",
  bool: "boolean",
  int32: "number",
  int64: "number | bigint",
  uint32: "number",
  uint64: "number | bigint",
  sint32: "number",
  sint64: "number | bigint",
  fixed32: "number",
  fixed64: "number | bigint",
  sfixed32: "number",
  sfixed64: "number | bigint",
  double: "number",
  float: "number",
  bytes: "Uint8Array",
};

/** Parses the messages and enums of a proto3 file (services are skipped). */
export function parseProto(text: string): Map<string, ProtoDecl> {
  const decls = new Map<string, ProtoDecl>();
  const stack: (ProtoDecl | "skip")[] = [];
  let doc: string[] = [];
  const lines = text.replace(/\/\*[\s\S]*?\*\//g, "").split("\n");
  for (const raw of lines) {
    const line = raw.trim();
    if (line.startsWith("//")) {
      doc.push(line.replace(/^\/\/ ?/, ""));
      continue;
    }
    const code = line.replace(/\/\/.*$/, "").trim();
    if (code === "") {
      if (line === "") doc = [];
      continue;
    }
    const open = /^(message|enum|service)\s+(\w+)\s*\{$/.exec(code);
    if (open) {
      if (open[1] === "service") stack.push("skip");
      else {
        const outer = stack.at(-1);
        const name = outer && outer !== "skip" ? `${outer.name}.${open[2]}` : open[2]!;
        const decl: ProtoDecl = { kind: open[1] as "message" | "enum", name, doc, fields: [], values: [] };
        decls.set(name, decl);
        stack.push(decl);
      }
      doc = [];
      continue;
    }
    if (code === "}") {
      stack.pop();
      doc = [];
      continue;
    }
    const current = stack.at(-1);
    if (!current || current === "skip") {
      doc = [];
      continue;
    }
    if (current.kind === "enum") {
      const value = /^(\w+)\s*=\s*(\d+)\s*;$/.exec(code);
      if (!value) throw new Error(`cannot read enum value in ${current.name}: ${code}`);
      current.values.push({ name: value[1]!, number: Number(value[2]), doc });
    } else {
      const field = /^(repeated\s+)?(map\s*<\s*string\s*,\s*(\w+)\s*>|[\w.]+)\s+(\w+)\s*=\s*(\d+)\s*(\[[^\]]*\])?\s*;$/.exec(code);
      if (!field) throw new Error(`cannot read field in ${current.name}: ${code}`);
      const isMap = field[3] !== undefined;
      current.fields.push({ name: field[4]!, number: Number(field[5]), type: isMap ? field[3]! : field[2]!, label: isMap ? 2 : field[1] ? 1 : 0, doc });
    }
    doc = [];
  }
  return decls;
}

/** The declaration a field's type names, looked up as protoc does: nested in the field's message first. */
function resolve(decls: Map<string, ProtoDecl>, from: string, type: string): ProtoDecl | undefined {
  return decls.get(`${from}.${type}`) ?? decls.get(type);
}

/** Every message and enum reachable from `roots`, in the order they are reached. */
function reachable(decls: Map<string, ProtoDecl>, roots: readonly string[]): ProtoDecl[] {
  const seen = new Map<string, ProtoDecl>();
  const visit = (name: string): void => {
    const decl = decls.get(name);
    if (!decl) throw new Error(`unknown message ${name}`);
    if (seen.has(name)) return;
    seen.set(name, decl);
    for (const field of decl.fields) {
      if (scalars[field.type]) continue;
      const target = resolve(decls, name, field.type);
      if (!target) throw new Error(`unknown type ${field.type} in ${name}.${field.name}`);
      visit(target.name);
    }
  };
  for (const root of roots) visit(root);
  return [...seen.values()];
}

const tsName = (protoName: string): string => `Cri${protoName.replace(/\./g, "")}`;

function docBlock(doc: readonly string[], indent: string, fallback: string): string {
  const lines = doc.length ? doc : [fallback];
  const safe = lines.map((l) => l.replace(/\*\//g, "*\\/"));
  if (safe.length === 1) return `${indent}/** ${safe[0]} */\n`;
  return `${indent}/**\n${safe.map((l) => `${indent} *${l ? ` ${l}` : ""}`).join("\n")}\n${indent} */\n`;
}

function fieldType(decls: Map<string, ProtoDecl>, owner: string, field: ProtoField): string {
  let base = scalars[field.type];
  if (!base) {
    const target = resolve(decls, owner, field.type)!;
    base = target.kind === "enum" ? "number" : tsName(target.name);
  }
  if (field.label === 1) return base.includes("|") ? `(${base})[]` : `${base}[]`;
  if (field.label === 2) return `Record<string, ${base}>`;
  return base;
}

const header = (what: string): string =>
  `/**\n * ${what}\n * Generated by scripts/genCriTypes.ts from src/cri/proto/runtime/v1/api.proto (kubernetes/cri-api v0.25.0,\n * Apache-2.0; see src/cri/proto/README.md). Do not edit: run \`npm run gen:cri\`.\n */\n`;

/** The text of src/domain/criApi.generated.ts for `protoText`. */
export function generateCriTypes(protoText: string): string {
  const decls = parseProto(protoText);
  let out = header("CRI runtime.v1 messages as TypeScript types, with the proto's field names. Types only.");
  for (const decl of reachable(decls, rootMessages)) {
    if (decl.kind === "enum") {
      const values = decl.values.map((v) => `${v.number} ${v.name}`).join(", ");
      out += `\n${docBlock([...decl.doc, ...(decl.doc.length ? [""] : []), `CRI enum ${decl.name} as its number: ${values}.`], "", "")}`;
      out += `export type ${tsName(decl.name)} = number;\n`;
      continue;
    }
    out += `\n${docBlock(decl.doc, "", `CRI message ${decl.name}.`)}export interface ${tsName(decl.name)} {\n`;
    for (const field of decl.fields) {
      const target = scalars[field.type] ? undefined : resolve(decls, decl.name, field.type);
      const enumNote = target?.kind === "enum" ? [`(${tsName(target.name)}: ${target.values.map((v) => `${v.number} ${v.name}`).join(", ")})`] : [];
      out += docBlock([...field.doc, ...enumNote], "  ", `Field ${field.name} (${field.number}).`);
      out += `  ${field.name}?: ${fieldType(decls, decl.name, field)};\n`;
    }
    out += "}\n";
  }
  return out;
}

/** The text of src/cri/criSchema.generated.ts for `protoText`. */
export function generateCriSchema(protoText: string): string {
  const decls = parseProto(protoText);
  let out = header("CRI runtime.v1 messages as field tables for the relay's protobuf codec (src/cri/protoCodec.ts).");
  out += `import type { MessageSchema } from "./protoSchema.js";\n\n`;
  out += `/** Each message the relay reads or writes, by proto name, with the messages it reaches: [name, number, type, label]. */\n`;
  out += `export const criSchema: Readonly<Record<string, MessageSchema>> = {\n`;
  for (const decl of reachable(decls, rootMessages)) {
    if (decl.kind === "enum") continue;
    const fields = decl.fields.map((f) => {
      const target = scalars[f.type] ? undefined : resolve(decls, decl.name, f.type)!;
      const type = target ? (target.kind === "enum" ? "enum" : target.name) : f.type;
      return `[${JSON.stringify(f.name)}, ${f.number}, ${JSON.stringify(type)}, ${f.label}]`;
    });
    out += `  ${JSON.stringify(decl.name)}: [${fields.join(", ")}],\n`;
  }
  out += "};\n";
  return out;
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const text = readFileSync(criProtoPath, "utf8");
  writeFileSync(criTypesPath, generateCriTypes(text));
  writeFileSync(criSchemaPath, generateCriSchema(text));
  process.stdout.write(`wrote ${criTypesPath} and ${criSchemaPath}\n`);
}
