import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, expectTypeOf, it } from "vitest";
import { generateDomainTypes, outputPath, swaggerPath } from "../scripts/genDomainTypes.js";
import type {
  ContainerCreateConfig,
  Endpoint,
  EndpointSettings,
  HostConfig,
  SandboxMeta,
  VolumeCreateConfig,
} from "../src/domain/index.js";

const repoRoot = fileURLToPath(new URL("..", import.meta.url));
const sharedSwagger = fileURLToPath(new URL("../../shared/data/pouch-api/swagger.yml", import.meta.url));
const readRepoFile = (path: string): string => readFileSync(`${repoRoot}${path}`, "utf8");

/** A tiny swagger document for checking single conversion rules. */
const miniSwagger = `
swagger: "2.0"
info: { title: mini, version: "9.9" }
definitions:
  Base:
    description: "A base object."
    type: object
    required: [Id]
    properties:
      Id: { type: string }
      Note: { type: string, x-nullable: true }
      Tags: { type: object, additionalProperties: { type: string } }
      Kind: { $ref: "#/definitions/Kind" }
  Kind:
    type: string
    enum: [a, b]
  Both:
    allOf:
      - $ref: "#/definitions/Base"
      - type: object
        properties:
          Extra: { type: array, items: { type: integer } }
  Unused:
    type: object
    properties:
      X: { type: string }
`;

describe("generated PouchContainer types", () => {
  it("the committed generated module equals a fresh run of the generator on the repo's swagger copy", async () => {
    const fresh = await generateDomainTypes(readRepoFile(swaggerPath));
    expect(fresh).toBe(readRepoFile(outputPath));
  });

  it("gives byte-identical output for the same input", async () => {
    const swagger = readRepoFile(swaggerPath);
    expect(await generateDomainTypes(swagger)).toBe(await generateDomainTypes(swagger));
  });

  it("the repo's swagger copy equals the shared one", (ctx) => {
    ctx.skip(!existsSync(sharedSwagger), `optional: ${sharedSwagger} is not there to compare with`);
    expect(readRepoFile(swaggerPath)).toBe(readFileSync(sharedSwagger, "utf8"));
  });

  it("puts a TSDoc comment right before every exported type", () => {
    const lines = readRepoFile(outputPath).split("\n");
    const undocumented = lines.filter((line, i) => line.startsWith("export ") && !lines[i - 1]?.endsWith("*/"));
    expect(undocumented).toEqual([]);
  });

  it("re-exports every generated type from src/domain/index.ts", () => {
    const generated = [...readRepoFile(outputPath).matchAll(/^export (?:interface|type) (\w+)/gm)].map((m) => m[1]);
    const index = readRepoFile("src/domain/index.ts");
    expect(generated.filter((name) => !new RegExp(`\\b${name},`).test(index))).toEqual([]);
  });

  it("adds no catch-all index signature to generated interfaces", () => {
    expect(readRepoFile(outputPath)).not.toMatch(/\[key: string\]/);
  });
});

describe("the swagger converter", () => {
  it("emits only the requested definitions and what they reference", async () => {
    const out = await generateDomainTypes(miniSwagger, ["Both"]);
    expect(out).toMatch(/export interface Base /);
    expect(out).toMatch(/export type Kind = "a" \| "b";/);
    expect(out).not.toMatch(/Unused/);
  });

  it("turns allOf with a $ref into an interface that extends it", async () => {
    const out = await generateDomainTypes(miniSwagger, ["Both"]);
    expect(out).toMatch(/export interface Both extends Base \{\n {2}Extra\?: number\[\];\n\}/);
  });

  it("makes only required properties non-optional", async () => {
    const out = await generateDomainTypes(miniSwagger, ["Base"]);
    expect(out).toMatch(/^ {2}Id: string;$/m);
    expect(out).toMatch(/^ {2}Kind\?: Kind;$/m);
  });

  it("adds null to the type of an x-nullable property", async () => {
    const out = await generateDomainTypes(miniSwagger, ["Base"]);
    expect(out).toMatch(/^ {2}Note\?: string \| null;$/m);
  });

  it("turns additionalProperties into a Record", async () => {
    const out = await generateDomainTypes(miniSwagger, ["Base"]);
    expect(out).toMatch(/^ {2}Tags\?: Record<string, string>;$/m);
  });

  it("turns a description into TSDoc and falls back to a generic line without one", async () => {
    const out = await generateDomainTypes(miniSwagger, ["Base"]);
    expect(out).toMatch(/\/\*\* A base object\. \*\/\nexport interface Base /);
    expect(out).toMatch(/\/\*\* The `Kind` object of PouchContainer's API\. \*\/\nexport type Kind /);
  });

  it("fails on a definition that swagger does not have", async () => {
    await expect(generateDomainTypes(miniSwagger, ["Missing"])).rejects.toThrow(/no definition named Missing/);
  });
});

describe("domain types (checked by tsc)", () => {
  it("types Env as an optional string array", () => {
    expectTypeOf<ContainerCreateConfig["Env"]>().toEqualTypeOf<string[] | undefined>();
  });

  it("types HostConfig.Memory as an optional number", () => {
    expectTypeOf<NonNullable<ContainerCreateConfig["HostConfig"]>["Memory"]>().toEqualTypeOf<number | undefined>();
  });

  it("has CpuShares on HostConfig", () => {
    expectTypeOf<HostConfig>().toHaveProperty("CpuShares").toEqualTypeOf<number | undefined>();
  });

  it("types Labels as a string record", () => {
    expectTypeOf<ContainerCreateConfig["Labels"]>().toEqualTypeOf<Record<string, string> | undefined>();
  });

  it("types VolumeCreateConfig.Driver as an optional string", () => {
    expectTypeOf<VolumeCreateConfig["Driver"]>().toEqualTypeOf<string | undefined>();
  });

  it("requires Image on a container create config, as swagger does", () => {
    expectTypeOf<ContainerCreateConfig["Image"]>().toEqualTypeOf<string>();
  });

  it("rejects a misspelled HostConfig field", () => {
    const hostConfig: HostConfig = {
      // @ts-expect-error the field is Memory, not memory
      memory: 1024,
    };
    expect(hostConfig).toBeDefined();
  });

  it("gives Endpoint PouchContainer's plugin-facing fields", () => {
    expectTypeOf<Endpoint["GenericParams"]>().toEqualTypeOf<Record<string, unknown> | undefined>();
    expectTypeOf<Endpoint["Priority"]>().toEqualTypeOf<number | undefined>();
    expectTypeOf<Endpoint["DisableResolver"]>().toEqualTypeOf<boolean | undefined>();
    expectTypeOf<Endpoint["EndpointConfig"]>().toEqualTypeOf<EndpointSettings | undefined>();
  });

  it("gives SandboxMeta its ID and network namespace", () => {
    expectTypeOf<SandboxMeta["ID"]>().toEqualTypeOf<string | undefined>();
    expectTypeOf<SandboxMeta["NetNS"]>().toEqualTypeOf<string | undefined>();
  });
});
