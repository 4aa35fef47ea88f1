import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { ociConfigValidator, ociExampleConfig, ociSchemaDir } from "./support/ociSchema.js";

const sharedSchemaDir = fileURLToPath(new URL("../../shared/data/oci-runtime-spec/", import.meta.url));

it("the repo's OCI runtime-spec schema copy carries its license", () => {
  expect(readFileSync(join(ociSchemaDir, "LICENSE"), "utf8")).toContain("Apache License");
});

it("the spec's example config.json validates against the schema copy", () => {
  expect(ociConfigValidator()(ociExampleConfig())).toEqual([]);
});

it("the repo's OCI runtime-spec schema copy equals the shared one", (ctx) => {
  ctx.skip(!existsSync(sharedSchemaDir), `optional: ${sharedSchemaDir} is not there to compare with`);
  const shared = readdirSync(sharedSchemaDir).sort();
  const copied = readdirSync(ociSchemaDir).filter((file) => file !== "README.md").sort();
  expect(copied).toEqual(shared);
  for (const file of shared) expect({ file, text: readFileSync(join(ociSchemaDir, file), "utf8") }).toEqual({ file, text: readFileSync(join(sharedSchemaDir, file), "utf8") });
});
