/**
 * The OCI runtime-spec schemas kept in the repository (test/data/oci-runtime-spec) and an ajv validator for
 * config.json documents built from them.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import AjvDraft04 from "ajv-draft-04";

/** The directory of the schema copy. */
export const ociSchemaDir = fileURLToPath(new URL("../data/oci-runtime-spec/", import.meta.url));

/** Errors of validating a document (empty when it is valid). */
export type OciValidate = (config: unknown) => string[];

/** A validator for OCI config.json documents, built from config-schema.json and the defs/config-* files it refers to. */
export function ociConfigValidator(): OciValidate {
  const ajv = new AjvDraft04.default({ allErrors: true, strict: false });
  for (const file of readdirSync(ociSchemaDir)) {
    if (/^(defs.*|config-(?!schema).*)\.json$/.test(file)) ajv.addSchema(readJson(file) as object, file);
  }
  const validate = ajv.compile(readJson("config-schema.json") as object);
  return (config) => (validate(config) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ""}`));
}

/** The spec's example-config.json. */
export function ociExampleConfig(): Record<string, unknown> {
  return readJson("example-config.json") as Record<string, unknown>;
}

function readJson(file: string): unknown {
  return JSON.parse(readFileSync(join(ociSchemaDir, file), "utf8"));
}
