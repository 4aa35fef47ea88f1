/**
 * The relay's own protobuf codec (src/cri/protoCodec.ts, protoWire.ts) against a real peer: protobufjs loading the same
 * CRI proto (src/cri/proto/runtime/v1/api.proto) the tests' gRPC client uses. Bytes either side encodes decode on the
 * other to the same values; rewriteMessage changes only what changed and keeps every other byte (unknown fields
 * included); malformed bytes fail with ProtoWireError; 64-bit integers keep every digit. No runtime needed.
 */
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";
import { describe, expect, it } from "vitest";
import { criSchema } from "../../src/cri/criSchema.generated.js";
import { decodeMessage, encodeMessage, rewriteMessage, type DecodedMessage, type SchemaSet } from "../../src/cri/protoCodec.js";
import { ProtoWireError, ProtoWriter, walkFields, type WireType } from "../../src/cri/protoWire.js";

const protoPath = fileURLToPath(new URL("../../src/cri/proto/runtime/v1/api.proto", import.meta.url));

/** The CRI proto as protobufjs reads it (field names as written, like the tests' proto-loader client: keepCase). */
function loadCriRoot(): protobuf.Root {
  const root = new protobuf.Root();
  root.loadSync(protoPath, { keepCase: true });
  root.resolveAll();
  return root;
}

const criRoot = loadCriRoot();
const criType = (name: string): protobuf.Type => criRoot.lookupType(`runtime.v1.${name}`);

/** Every scalar kind protobuf has that the codec supports, for the kinds CRI's messages lack (bytes, fixed, float). */
const allKindsProto = `
syntax = "proto3";
package kinds;
enum Color { RED = 0; GREEN = 1; BLUE = 2; }
message Inner { string name = 1; int64 n = 2; }
message AllKinds {
  string s = 1; bytes b = 2; bool flag = 3;
  int32 i32 = 4; uint32 u32 = 5; int64 i64 = 6; uint64 u64 = 7;
  fixed32 f32 = 8; sfixed32 sf32 = 9; fixed64 f64 = 10; sfixed64 sf64 = 11;
  double d = 12; float f = 13; Color color = 14;
  repeated int64 ri64 = 15; repeated double rd = 16; repeated fixed32 rf32 = 17; repeated bool rb = 18;
  repeated string rs = 19; repeated bytes rbytes = 20;
  map<string, string> ms = 21; map<string, int64> mi = 22; map<string, Inner> mm = 23;
  Inner inner = 24; repeated Inner rinner = 25; map<string, bytes> mb = 26; map<string, Color> mc = 27;
  repeated sfixed64 rsf64 = 28; repeated float rf = 29; repeated Color rcolor = 30;
}
`;
const kindsRoot = protobuf.parse(allKindsProto, { keepCase: true }).root;
kindsRoot.resolveAll();
const kindsType = (name: string): protobuf.Type => kindsRoot.lookupType(`kinds.${name}`);

/** The codec's field tables for allKindsProto, as scripts/genCriTypes.ts would write them. */
const kindsSchema: SchemaSet = {
  Inner: [
    ["name", 1, "string", 0],
    ["n", 2, "int64", 0],
  ],
  AllKinds: [
    ["s", 1, "string", 0],
    ["b", 2, "bytes", 0],
    ["flag", 3, "bool", 0],
    ["i32", 4, "int32", 0],
    ["u32", 5, "uint32", 0],
    ["i64", 6, "int64", 0],
    ["u64", 7, "uint64", 0],
    ["f32", 8, "fixed32", 0],
    ["sf32", 9, "sfixed32", 0],
    ["f64", 10, "fixed64", 0],
    ["sf64", 11, "sfixed64", 0],
    ["d", 12, "double", 0],
    ["f", 13, "float", 0],
    ["color", 14, "enum", 0],
    ["ri64", 15, "int64", 1],
    ["rd", 16, "double", 1],
    ["rf32", 17, "fixed32", 1],
    ["rb", 18, "bool", 1],
    ["rs", 19, "string", 1],
    ["rbytes", 20, "bytes", 1],
    ["ms", 21, "string", 2],
    ["mi", 22, "int64", 2],
    ["mm", 23, "Inner", 2],
    ["inner", 24, "Inner", 0],
    ["rinner", 25, "Inner", 1],
    ["mb", 26, "bytes", 2],
    ["mc", 27, "enum", 2],
    ["rsf64", 28, "sfixed64", 1],
    ["rf", 29, "float", 1],
    ["rcolor", 30, "enum", 1],
  ],
};

const wide = new Set(["int64", "uint64", "fixed64", "sfixed64"]);

/** A scalar in a form both sides' values compare in: 64-bit integers as decimal strings, bytes as hex. */
function canonicalScalar(type: string, value: unknown): unknown {
  if (wide.has(type)) return String(value); // a number, a bigint, a protobufjs Long or a string
  if (type === "bytes") return Buffer.from(value as Uint8Array).toString("hex");
  return value;
}

/**
 * `value` (a message of `name` as either codec gives it) in one comparable form: proto3 defaults, empty lists and
 * empty maps left out (neither side is obliged to write them), present messages kept even when empty.
 */
function canonical(schemas: SchemaSet, name: string, value: unknown): Record<string, unknown> {
  const message = (value ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const one = (type: string, item: unknown): unknown => (schemas[type] ? canonical(schemas, type, item) : canonicalScalar(type, item));
  for (const [field, , type, label] of schemas[name]!) {
    const v = message[field];
    if (v === undefined || v === null) continue;
    if (label === 1) {
      if ((v as unknown[]).length) out[field] = (v as unknown[]).map((item) => one(type, item));
    } else if (label === 2) {
      const entries = Object.entries(v as Record<string, unknown>);
      if (entries.length) out[field] = Object.fromEntries(entries.map(([k, item]) => [k, one(type, item)]));
    } else if (schemas[type]) {
      out[field] = canonical(schemas, type, v);
    } else {
      const c = one(type, v);
      if (c !== "" && c !== 0 && c !== false && !(wide.has(type) && c === "0")) out[field] = c;
    }
  }
  return out;
}

/** `value` as protobufjs's fromObject takes it: bigints as decimal strings (it reads them into Longs). */
function forProtobufjs(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array || typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map(forProtobufjs);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, forProtobufjs(v)]));
}

/** protobufjs's encoding of `value` as `type`. */
function pbEncode(type: protobuf.Type, value: unknown): Uint8Array {
  const message = type.fromObject(forProtobufjs(value) as Record<string, unknown>);
  return type.encode(message).finish();
}

/** protobufjs's decoding of `bytes` as `type`, as a plain object (64-bit integers as strings, enums as numbers). */
function pbDecode(type: protobuf.Type, bytes: Uint8Array): Record<string, unknown> {
  return type.toObject(type.decode(bytes), { longs: String, enums: Number });
}

/** The byte ranges of every top-level field numbered `no` (or every field, without `no`). */
function slices(bytes: Uint8Array, keep: (no: number) => boolean = () => true): string[] {
  return walkFields(bytes)
    .filter((f) => keep(f.no))
    .map((f) => Buffer.from(bytes.subarray(f.start, f.end)).toString("hex"));
}

/** The payload of the first top-level field `no`. */
function payloadOf(bytes: Uint8Array, no: number): Uint8Array {
  const field = walkFields(bytes).find((f) => f.no === no);
  if (!field) throw new Error(`no field ${no}`);
  return bytes.subarray(field.valueStart, field.end);
}

const mib = 1024 * 1024;

/** A ContainerConfig with every kind of field CRI's messages have, with values at the edges of their types. */
function fullContainerConfig(): DecodedMessage {
  return {
    metadata: { name: "web", attempt: 4_294_967_295 },
    image: { image: "docker.io/library/nginx:1.25", annotations: { "io.kubernetes.cri.image-name": "nginx" } },
    command: ["/bin/sh", "-c"],
    args: ["echo héllo\nworld; sleep 1", ""],
    working_dir: "/srv",
    envs: [
      { key: "PATH", value: "/usr/bin" },
      { key: "EMPTY", value: "" },
      { key: "UNICODE", value: "日本語 🙂" },
    ],
    mounts: [
      { container_path: "/data", host_path: "/var/lib/data", readonly: true, selinux_relabel: true, propagation: 2 },
      { container_path: "/logs", host_path: "/var/log/pod", propagation: 1 },
    ],
    devices: [{ container_path: "/dev/fuse", host_path: "/dev/fuse", permissions: "rwm" }],
    labels: { app: "web", "io.kubernetes.pod.name": "web-0", "": "empty key" },
    annotations: { "kubernetes.io/config.seen": "2024-01-01T00:00:00Z", blank: "" },
    log_path: "web/0.log",
    stdin: true,
    stdin_once: true,
    tty: true,
    linux: {
      resources: {
        cpu_period: 100_000,
        cpu_quota: -1,
        cpu_shares: 1024,
        memory_limit_in_bytes: 64 * mib,
        oom_score_adj: -997,
        cpuset_cpus: "0-3",
        cpuset_mems: "0",
        hugepage_limits: [
          { page_size: "2MB", limit: 2 ** 40 },
          { page_size: "1GB", limit: 18_446_744_073_709_551_615n },
        ],
        unified: { "memory.high": "max" },
        memory_swap_limit_in_bytes: 9_007_199_254_740_993n,
      },
      security_context: {
        capabilities: { add_capabilities: ["NET_ADMIN"], drop_capabilities: ["ALL"] },
        privileged: true,
        namespace_options: {
          network: 2,
          pid: 1,
          target_id: "abc",
          userns_options: { mode: 1, uids: [{ host_id: 100_000, container_id: 0, length: 65_536 }], gids: [{ host_id: 100_000, length: 65_536 }] },
        },
        selinux_options: { user: "system_u", role: "system_r", type: "container_t", level: "s0:c1,c2" },
        run_as_user: { value: 1000 },
        run_as_group: { value: 0 },
        readonly_rootfs: true,
        supplemental_groups: [1, -2, 3_000_000_000, -9_223_372_036_854_775_808n],
        no_new_privs: true,
        masked_paths: ["/proc/kcore"],
        readonly_paths: ["/proc/sys"],
        seccomp: { profile_type: 2, localhost_ref: "profiles/x.json" },
        apparmor: { profile_type: 1 },
        apparmor_profile: "runtime/default",
        seccomp_profile_path: "localhost/x",
      },
    },
    windows: {
      resources: { cpu_shares: 2, cpu_count: 4, cpu_maximum: 5000, memory_limit_in_bytes: 1 << 30, rootfs_size_in_bytes: 2 ** 34 },
      security_context: { run_as_username: "ContainerUser", credential_spec: "{}", host_process: true },
    },
  };
}

function fullSandboxConfig(): DecodedMessage {
  return {
    metadata: { name: "web-0", uid: "0b1c", namespace: "default", attempt: 1 },
    hostname: "web-0",
    log_directory: "/var/log/pods/default_web-0_0b1c",
    dns_config: { servers: ["10.96.0.10"], searches: ["default.svc.cluster.local"], options: ["ndots:5"] },
    port_mappings: [{ protocol: 1, container_port: 8080, host_port: -1, host_ip: "0.0.0.0" }],
    labels: { app: "web" },
    annotations: { note: "ünïcode" },
    linux: {
      cgroup_parent: "/kubepods/burstable/pod0b1c",
      security_context: { namespace_options: { network: 2 }, run_as_user: { value: -1 }, supplemental_groups: [5], privileged: false, seccomp: { profile_type: 0 } },
      sysctls: { "net.ipv4.ip_forward": "1" },
      overhead: { memory_limit_in_bytes: 1 },
      resources: { cpu_shares: 2 },
    },
    windows: { security_context: { run_as_username: "u", host_process: true } },
  };
}

function fullCreateContainerRequest(): DecodedMessage {
  return { pod_sandbox_id: "f00dfeed", config: fullContainerConfig(), sandbox_config: fullSandboxConfig() };
}

/** One fixture per message the relay reads or writes, with every field that message has set. */
const fixtures: readonly (readonly [string, () => DecodedMessage])[] = [
  ["CreateContainerRequest", fullCreateContainerRequest],
  ["ContainerConfig", fullContainerConfig],
  ["PullImageRequest", () => ({ image: { image: "registry.local/app:1", annotations: { a: "b" } }, auth: { username: "u", password: "p@ss:w0rd", auth: "dTpw", server_address: "registry.local", identity_token: "id", registry_token: "rt" }, sandbox_config: fullSandboxConfig() })],
  ["PullImageResponse", () => ({ image_ref: "sha256:0123456789abcdef" })],
  [
    "ImageStatusResponse",
    () => ({
      image: { id: "sha256:abc", repo_tags: ["app:1", "app:latest"], repo_digests: ["app@sha256:def"], size: 2 ** 40 + 3, uid: { value: -1 }, username: "root", spec: { image: "app:1" }, pinned: true },
      info: { info: '{"chainID":"x"}' },
    }),
  ],
  ["StatusResponse", () => ({ status: { conditions: [{ type: "RuntimeReady", status: true }, { type: "NetworkReady", status: false, reason: "NetworkPluginNotReady", message: "cni config uninitialized\nsee logs" }] }, info: { config: '{"containerd":{"snapshotter":"overlayfs"}}' } })],
];

function fullAllKinds(): DecodedMessage {
  return {
    s: "ß ✓ \u0000 end",
    b: Uint8Array.from([0, 1, 2, 254, 255]),
    flag: true,
    i32: -2_147_483_648,
    u32: 4_294_967_295,
    i64: -9_007_199_254_740_991,
    u64: 18_446_744_073_709_551_615n,
    f32: 4_294_967_295,
    sf32: -7,
    f64: 18_446_744_073_709_551_615n,
    sf64: -9_223_372_036_854_775_808n,
    d: -1.5e300,
    f: Math.fround(3.14),
    color: 2,
    ri64: [0, -1, 9_223_372_036_854_775_807n],
    rd: [0.5, -0, Number.MAX_VALUE],
    rf32: [1, 2, 4_000_000_000],
    rb: [true, false, true],
    rs: ["", "x", "ÿ"],
    rbytes: [new Uint8Array(0), Uint8Array.from([9])],
    ms: { a: "1", b: "" },
    mi: { big: -9_223_372_036_854_775_807n, small: 3 },
    mm: { one: { name: "n", n: 5 }, empty: {} },
    inner: { name: "inner", n: -3 },
    rinner: [{ name: "a" }, {}, { n: 7 }],
    mb: { k: Uint8Array.from([7, 8]) },
    mc: { c: 1 },
    rsf64: [-1, 1],
    rf: [Math.fround(0.1), -2],
    rcolor: [0, 1, 2],
  };
}

describe("protoCodec against protobufjs: bytes protobufjs encodes", () => {
  it.each(fixtures)("decode with ours to the same values: %s", (name, make) => {
    const value = make();
    const bytes = pbEncode(criType(name), value);
    expect(canonical(criSchema, name, decodeMessage(criSchema, name, bytes))).toEqual(canonical(criSchema, name, value));
  });

  it("decode with ours to the same values for every scalar kind (bytes, fixed, float, double, maps of messages)", () => {
    const value = fullAllKinds();
    const bytes = pbEncode(kindsType("AllKinds"), value);
    expect(canonical(kindsSchema, "AllKinds", decodeMessage(kindsSchema, "AllKinds", bytes))).toEqual(canonical(kindsSchema, "AllKinds", value));
  });

  it("decode with ours to JavaScript values of the field's type: numbers, booleans, strings, Uint8Arrays, bigints only past 2^53", () => {
    const given = fullAllKinds();
    const decoded = decodeMessage(kindsSchema, "AllKinds", pbEncode(kindsType("AllKinds"), given));
    // toMatchObject tells 3 from 3n: each field comes back as the very value (and type) it was given
    const kept = ["s", "flag", "i32", "u32", "i64", "u64", "f32", "sf32", "f64", "sf64", "d", "f", "color", "ri64", "rb", "mi", "mm"] as const;
    expect(decoded).toMatchObject(Object.fromEntries(kept.map((key) => [key, given[key]])));
    expect(decoded["b"]).toBeInstanceOf(Uint8Array);
    expect([...(decoded["b"] as Uint8Array)]).toEqual([0, 1, 2, 254, 255]);
  });

  it("decode with ours to empty lists and maps for the repeated and map fields that are absent", () => {
    const decoded = decodeMessage(criSchema, "ContainerConfig", pbEncode(criType("ContainerConfig"), { metadata: { name: "x" } }));
    expect(decoded).toEqual({ metadata: { name: "x" }, command: [], args: [], envs: [], mounts: [], devices: [], labels: {}, annotations: {} });
  });
});

describe("protoCodec against protobufjs: bytes ours encodes", () => {
  it.each(fixtures)("decode with protobufjs to the same values: %s", (name, make) => {
    const value = make();
    const bytes = encodeMessage(criSchema, name, value);
    expect(canonical(criSchema, name, pbDecode(criType(name), bytes))).toEqual(canonical(criSchema, name, value));
  });

  it("decode with protobufjs to the same values for every scalar kind", () => {
    const value = fullAllKinds();
    const bytes = encodeMessage(kindsSchema, "AllKinds", value);
    expect(canonical(kindsSchema, "AllKinds", pbDecode(kindsType("AllKinds"), bytes))).toEqual(canonical(kindsSchema, "AllKinds", value));
  });

  it("keep a present but empty message (run_as_group { value: 0 } is not the same as no run_as_group)", () => {
    const bytes = encodeMessage(criSchema, "LinuxContainerSecurityContext", { run_as_group: { value: 0 } });
    const decoded = criType("LinuxContainerSecurityContext").decode(bytes) as unknown as { run_as_group?: unknown };
    expect(decoded.run_as_group).toBeDefined();
    expect(decodeMessage(criSchema, "LinuxContainerSecurityContext", bytes)["run_as_group"]).toEqual({});
  });

  it("leave out proto3 defaults (empty strings, zeros, false) of singular scalars", () => {
    expect(encodeMessage(criSchema, "Mount", { container_path: "", host_path: "", readonly: false, propagation: 0 })).toHaveLength(0);
  });

  it("refuse a value of the wrong JavaScript type, naming the field", () => {
    expect(() => encodeMessage(criSchema, "ContainerConfig", { linux: { resources: { memory_limit_in_bytes: "1g" } } })).toThrow(/ContainerConfig\.linux\.resources\.memory_limit_in_bytes.*finite number.*"1g"/);
    expect(() => encodeMessage(criSchema, "ContainerConfig", { linux: { resources: { cpu_shares: 1.5 } } })).toThrow(/cpu_shares.*whole number/);
    expect(() => encodeMessage(criSchema, "ContainerConfig", { envs: { key: "A" } })).toThrow(/ContainerConfig\.envs must be an array/);
    expect(() => encodeMessage(criSchema, "ContainerConfig", { command: ["ok", 5] })).toThrow(/ContainerConfig\.command\[1\] must be a string/);
  });

  it("refuse an integer outside its field's range instead of wrapping it", () => {
    expect(() => encodeMessage(criSchema, "ContainerMetadata", { attempt: 2 ** 32 })).toThrow(/ContainerMetadata\.attempt: 4294967296 is outside the range of a uint32/);
    expect(() => encodeMessage(criSchema, "ContainerMetadata", { attempt: -1 })).toThrow(/outside the range of a uint32/);
    expect(() => encodeMessage(criSchema, "PortMapping", { container_port: 2 ** 31 })).toThrow(/outside the range of a int32/);
    expect(() => encodeMessage(criSchema, "HugepageLimit", { limit: -5 })).toThrow(/outside the range of a uint64/);
    expect(() => encodeMessage(criSchema, "Int64Value", { value: 2n ** 63n })).toThrow(/outside the range of a int64/);
    expect(() => encodeMessage(criSchema, "LinuxContainerSecurityContext", { supplemental_groups: [1, 2n ** 64n] })).toThrow(/supplemental_groups\[1\].*outside the range of a int64/);
    expect(() => encodeMessage(kindsSchema, "AllKinds", { f32: -1 })).toThrow(/outside the range of a fixed32/);
  });

  it("refuse a bigint for a 32-bit field", () => {
    expect(() => encodeMessage(criSchema, "ContainerMetadata", { attempt: 1n })).toThrow(/attempt: a uint32 field needs a number, got the bigint 1/);
  });
});

describe("rewriteMessage", () => {
  const original = (): { bytes: Uint8Array; before: DecodedMessage } => {
    const bytes = pbEncode(criType("CreateContainerRequest"), fullCreateContainerRequest());
    return { bytes, before: decodeMessage(criSchema, "CreateContainerRequest", bytes) };
  };
  const config = (message: DecodedMessage): DecodedMessage => message["config"] as DecodedMessage;
  const resources = (message: DecodedMessage): DecodedMessage => ((config(message)["linux"] as DecodedMessage)["resources"] as DecodedMessage);
  const decodedByProtobufjs = (bytes: Uint8Array): Record<string, unknown> => canonical(criSchema, "CreateContainerRequest", pbDecode(criType("CreateContainerRequest"), bytes));

  it("with envs appended yields bytes protobufjs decodes to the original with only that env added", () => {
    const { bytes, before } = original();
    const after = structuredClone(before);
    (config(after)["envs"] as unknown[]).push({ key: "ADDED", value: "1" });
    const rewritten = rewriteMessage(criSchema, "CreateContainerRequest", bytes, before, after);
    const expected = fullCreateContainerRequest();
    (config(expected)["envs"] as unknown[]).push({ key: "ADDED", value: "1" });
    expect(decodedByProtobufjs(rewritten)).toEqual(canonical(criSchema, "CreateContainerRequest", expected));
  });

  it("with envs appended keeps the bytes of every other field, at every level", () => {
    const { bytes, before } = original();
    const after = structuredClone(before);
    (config(after)["envs"] as unknown[]).push({ key: "ADDED", value: "1" });
    const rewritten = rewriteMessage(criSchema, "CreateContainerRequest", bytes, before, after);
    expect(slices(rewritten, (no) => no !== 2)).toEqual(slices(bytes, (no) => no !== 2));
    expect(slices(payloadOf(rewritten, 2), (no) => no !== 6)).toEqual(slices(payloadOf(bytes, 2), (no) => no !== 6));
    // the envs the request had keep their bytes too; the new one follows them
    expect(slices(payloadOf(rewritten, 2), (no) => no === 6).slice(0, 3)).toEqual(slices(payloadOf(bytes, 2), (no) => no === 6));
  });

  it("with memory_limit_in_bytes set yields bytes protobufjs decodes to the original with only that field changed", () => {
    const { bytes, before } = original();
    const after = structuredClone(before);
    resources(after)["memory_limit_in_bytes"] = 128 * mib;
    const rewritten = rewriteMessage(criSchema, "CreateContainerRequest", bytes, before, after);
    const expected = fullCreateContainerRequest();
    resources(expected)["memory_limit_in_bytes"] = 128 * mib;
    expect(decodedByProtobufjs(rewritten)).toEqual(canonical(criSchema, "CreateContainerRequest", expected));
    // one level down at a time: only linux.resources.memory_limit_in_bytes has new bytes
    const resourcesOf = (b: Uint8Array): Uint8Array => payloadOf(payloadOf(payloadOf(b, 2), 15), 1);
    expect(slices(resourcesOf(rewritten), (no) => no !== 4)).toEqual(slices(resourcesOf(bytes), (no) => no !== 4));
    expect(slices(payloadOf(payloadOf(rewritten, 2), 15), (no) => no !== 1)).toEqual(slices(payloadOf(payloadOf(bytes, 2), 15), (no) => no !== 1));
  });

  it("with a field set that the request did not have adds it (a config without linux gets linux.resources)", () => {
    const value = { pod_sandbox_id: "p", config: { metadata: { name: "c" }, image: { image: "i" } } };
    const bytes = pbEncode(criType("CreateContainerRequest"), value);
    const before = decodeMessage(criSchema, "CreateContainerRequest", bytes);
    const after = structuredClone(before);
    config(after)["linux"] = { resources: { memory_limit_in_bytes: 64 * mib } };
    const rewritten = rewriteMessage(criSchema, "CreateContainerRequest", bytes, before, after);
    expect(decodedByProtobufjs(rewritten)).toEqual(canonical(criSchema, "CreateContainerRequest", { ...value, config: { ...value.config, linux: { resources: { memory_limit_in_bytes: 64 * mib } } } }));
  });

  it("with a label removed and one added keeps the untouched labels' entry bytes", () => {
    const { bytes, before } = original();
    const after = structuredClone(before);
    const labels = config(after)["labels"] as Record<string, string>;
    delete labels["app"];
    labels["added"] = "yes";
    const rewritten = rewriteMessage(criSchema, "CreateContainerRequest", bytes, before, after);
    const expected = fullCreateContainerRequest();
    const expectedLabels = config(expected)["labels"] as Record<string, string>;
    delete expectedLabels["app"];
    expectedLabels["added"] = "yes";
    expect(decodedByProtobufjs(rewritten)).toEqual(canonical(criSchema, "CreateContainerRequest", expected));
    const kept = slices(payloadOf(bytes, 2), (no) => no === 9).filter((hex) => !Buffer.from(hex, "hex").includes("app"));
    expect(slices(payloadOf(rewritten, 2), (no) => no === 9)).toEqual(expect.arrayContaining(kept));
  });

  it("with one mount changed keeps the other mount's bytes", () => {
    const { bytes, before } = original();
    const after = structuredClone(before);
    (config(after)["mounts"] as DecodedMessage[])[1]!["readonly"] = true;
    const rewritten = rewriteMessage(criSchema, "CreateContainerRequest", bytes, before, after);
    const mounts = (b: Uint8Array): string[] => slices(payloadOf(b, 2), (no) => no === 7);
    expect(mounts(rewritten)[0]).toBe(mounts(bytes)[0]);
    expect(mounts(rewritten)[1]).not.toBe(mounts(bytes)[1]);
    const decoded = decodeMessage(criSchema, "CreateContainerRequest", rewritten);
    expect(config(decoded)["mounts"]).toEqual(config(after)["mounts"]);
  });

  it("with a field removed drops it (a plugin that deletes the config's annotations)", () => {
    const { bytes, before } = original();
    const after = structuredClone(before);
    delete config(after)["annotations"];
    const rewritten = rewriteMessage(criSchema, "CreateContainerRequest", bytes, before, after);
    expect(config(decodeMessage(criSchema, "CreateContainerRequest", rewritten))["annotations"]).toEqual({});
    expect(slices(payloadOf(rewritten, 2), (no) => no === 10)).toEqual([]);
  });

  it("of an unchanged message returns the request's own bytes", () => {
    const { bytes, before } = original();
    const rewritten = rewriteMessage(criSchema, "CreateContainerRequest", bytes, before, structuredClone(before));
    expect(rewritten).toBe(bytes);
  });

  it("of an unchanged message keeps encodings ours would not write (reversed field order, explicit defaults, padded varints)", () => {
    // Mount { readonly: false (explicit), propagation: 1 as a 3-byte varint, host_path, container_path } in reverse order
    const w = new ProtoWriter();
    w.tag(5, 0).raw(Uint8Array.from([0x81, 0x80, 0x00]));
    w.tag(3, 0).varint(0);
    w.delimited(2, Buffer.from("/host"));
    w.delimited(1, Buffer.from("/ctr"));
    const mount = w.finish();
    const config = new ProtoWriter().delimited(7, mount).delimited(3, Buffer.from("sh")).finish();
    const before = decodeMessage(criSchema, "ContainerConfig", config);
    expect(before["mounts"]).toEqual([{ propagation: 1, readonly: false, host_path: "/host", container_path: "/ctr" }]);
    expect(Buffer.from(rewriteMessage(criSchema, "ContainerConfig", config, before, structuredClone(before))).equals(config)).toBe(true);
    // and a change elsewhere keeps that mount as it came
    const after = { ...structuredClone(before), working_dir: "/w" };
    expect(slices(rewriteMessage(criSchema, "ContainerConfig", config, before, after), (no) => no === 7)).toEqual([Buffer.from(config.subarray(0, 2 + mount.length)).toString("hex")]);
  });
});

describe("rewriteMessage keeps unknown fields byte for byte", () => {
  /** The CRI proto with fields a newer version could add, of each wire type, at the top level and nested. */
  function extendedRoot(): protobuf.Root {
    const root = loadCriRoot();
    const config = root.lookupType("runtime.v1.ContainerConfig");
    config.add(new protobuf.Field("future_varint", 100, "uint64"));
    config.add(new protobuf.Field("future_fixed64", 101, "fixed64"));
    config.add(new protobuf.Field("future_string", 102, "string"));
    config.add(new protobuf.Field("future_fixed32", 103, "fixed32"));
    config.add(new protobuf.Field("future_message", 104, "runtime.v1.KeyValue"));
    root.lookupType("runtime.v1.LinuxContainerResources").add(new protobuf.Field("future_limit", 200, "int64"));
    root.lookupType("runtime.v1.Mount").add(new protobuf.Field("future_flag", 300, "bool"));
    root.resolveAll();
    return root;
  }

  const extended = extendedRoot();
  const future = { future_varint: "18446744073709551615", future_fixed64: "81985529216486895", future_string: "from the future 🙂", future_fixed32: 305_419_896, future_message: { key: "k", value: "v" } };
  const withFuture = (): Record<string, unknown> => {
    const config = forProtobufjs(fullContainerConfig()) as Record<string, Record<string, Record<string, unknown>> & Record<string, unknown>>;
    config["linux"]!["resources"]!["future_limit"] = "-42";
    (config["mounts"] as unknown as Record<string, unknown>[])[0]!["future_flag"] = true;
    return { ...config, ...future };
  };

  it("when a newer proto's fields (varint, fixed64, length-delimited, fixed32, message) come with a changed request", () => {
    const type = extended.lookupType("runtime.v1.ContainerConfig");
    const bytes = type.encode(type.fromObject(withFuture())).finish();
    const before = decodeMessage(criSchema, "ContainerConfig", bytes);
    const after = structuredClone(before);
    (after["envs"] as unknown[]).push({ key: "ADDED", value: "1" });
    ((after["linux"] as DecodedMessage)["resources"] as DecodedMessage)["memory_limit_in_bytes"] = 1;
    (after["mounts"] as DecodedMessage[])[0]!["readonly"] = false;
    const rewritten = rewriteMessage(criSchema, "ContainerConfig", bytes, before, after);
    const unknown = (no: number): boolean => no >= 100;
    expect(slices(rewritten, unknown)).toEqual(slices(bytes, unknown));
    expect(slices(rewritten, unknown)).toHaveLength(5);
    const decoded = type.toObject(type.decode(rewritten), { longs: String }) as Record<string, unknown> & { linux: { resources: Record<string, unknown> }; mounts: Record<string, unknown>[]; envs: unknown[] };
    expect(decoded).toMatchObject(future);
    expect(decoded.linux.resources["future_limit"]).toBe("-42");
    expect(decoded.linux.resources["memory_limit_in_bytes"]).toBe("1");
    expect(decoded.mounts[0]!["readonly"] ?? false).toBe(false);
    expect(decoded.mounts[0]!["container_path"]).toBe("/data");
    expect(decoded.envs).toHaveLength(4);
  });

  it("inside an element of a repeated message that a plugin changed in place (a mount made read-write keeps its newer field)", () => {
    const type = extended.lookupType("runtime.v1.ContainerConfig");
    const bytes = type.encode(type.fromObject(withFuture())).finish();
    const before = decodeMessage(criSchema, "ContainerConfig", bytes);
    const after = structuredClone(before);
    (after["mounts"] as DecodedMessage[])[0]!["readonly"] = false;
    const decoded = type.toObject(type.decode(rewriteMessage(criSchema, "ContainerConfig", bytes, before, after))) as { mounts: Record<string, unknown>[] };
    expect(decoded.mounts[0]!["future_flag"]).toBe(true);
    expect(decoded.mounts[0]!["readonly"] ?? false).toBe(false);
  });

  it("of no other element: an element that replaced one at another position does not take that one's fields", () => {
    const type = extended.lookupType("runtime.v1.ContainerConfig");
    const bytes = type.encode(type.fromObject(withFuture())).finish();
    const before = decodeMessage(criSchema, "ContainerConfig", bytes);
    const after = structuredClone(before);
    const mounts = after["mounts"] as DecodedMessage[];
    expect(mounts.length).toBeGreaterThan(1);
    // the first mount moves to the end; a new mount takes its place
    mounts.push(mounts.shift()!);
    mounts.unshift({ container_path: "/new", host_path: "/srv/new" });
    mounts.splice(1, 1);
    const decoded = type.toObject(type.decode(rewriteMessage(criSchema, "ContainerConfig", bytes, before, after))) as { mounts: Record<string, unknown>[] };
    expect(decoded.mounts.map((m) => [m["container_path"], m["future_flag"] ?? false])).toEqual([["/new", false], ...decoded.mounts.slice(1, -1).map((m) => [m["container_path"], false]), ["/data", true]]);
  });

  it("when hand-appended fields of each wire type sit between known fields at the top level and in a nested message", () => {
    const varintField = new ProtoWriter().tag(1000, 0).varint(2n ** 64n - 1n).finish();
    const fixed64Field = new ProtoWriter().tag(1001, 1).raw(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8])).finish();
    const delimitedField = new ProtoWriter().delimited(1002, Buffer.from([0xff, 0x00, 0xfe])).finish();
    const fixed32Field = new ProtoWriter().tag(1003, 5).raw(Uint8Array.from([9, 8, 7, 6])).finish();
    const unknowns = [varintField, fixed64Field, delimitedField, fixed32Field];
    const resources = Buffer.concat([varintField, encodeMessage(criSchema, "LinuxContainerResources", { cpu_shares: 2, memory_limit_in_bytes: 5 }), fixed32Field]);
    const linux = new ProtoWriter().delimited(1, resources).raw(delimitedField).finish();
    const bytes = Buffer.concat([
      encodeMessage(criSchema, "ContainerConfig", { metadata: { name: "c" } }),
      varintField,
      fixed64Field,
      new ProtoWriter().delimited(15, linux).finish(),
      delimitedField,
      encodeMessage(criSchema, "ContainerConfig", { envs: [{ key: "A", value: "1" }] }),
      fixed32Field,
    ]);
    const before = decodeMessage(criSchema, "ContainerConfig", bytes);
    const after = structuredClone(before);
    (after["envs"] as unknown[]).push({ key: "B", value: "2" });
    ((after["linux"] as DecodedMessage)["resources"] as DecodedMessage)["memory_limit_in_bytes"] = 64 * mib;
    const rewritten = rewriteMessage(criSchema, "ContainerConfig", bytes, before, after);
    const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
    const unknown = (no: number): boolean => no >= 1000;
    expect(slices(rewritten, unknown)).toEqual(unknowns.map(hex));
    const newLinux = payloadOf(rewritten, 15);
    expect(slices(newLinux, unknown)).toEqual([hex(delimitedField)]);
    expect(slices(payloadOf(newLinux, 1), unknown)).toEqual([hex(varintField), hex(fixed32Field)]);
    expect(decodeMessage(criSchema, "ContainerConfig", rewritten)).toEqual(after);
    // protobufjs reads the result as well, skipping what it does not know
    expect(canonical(criSchema, "ContainerConfig", pbDecode(criType("ContainerConfig"), rewritten))).toEqual(canonical(criSchema, "ContainerConfig", after));
  });

  it("when nothing changed, with the request's own bytes", () => {
    const type = extended.lookupType("runtime.v1.ContainerConfig");
    const bytes = type.encode(type.fromObject(withFuture())).finish();
    const before = decodeMessage(criSchema, "ContainerConfig", bytes);
    expect(Buffer.from(rewriteMessage(criSchema, "ContainerConfig", bytes, before, structuredClone(before))).equals(Buffer.from(bytes))).toBe(true);
  });
});

describe("malformed bytes", () => {
  it("cut anywhere inside a field fail with ProtoWireError, never a shorter message", () => {
    const valid = encodeMessage(criSchema, "CreateContainerRequest", fullCreateContainerRequest());
    const boundaries = new Set(walkFields(valid).map((f) => f.start));
    let cuts = 0;
    for (let length = 1; length < valid.length; length++) {
      if (boundaries.has(length)) continue; // a cut between fields is a valid, shorter message
      expect(() => decodeMessage(criSchema, "CreateContainerRequest", valid.subarray(0, length)), `cut at ${length}`).toThrow(ProtoWireError);
      cuts++;
    }
    expect(cuts).toBeGreaterThan(1000);
  });

  it("name what is wrong: a truncated varint, a length past the end", () => {
    expect(() => decodeMessage(criSchema, "ContainerConfig", Uint8Array.from([0x08 | (2 << 3), 0x80]))).toThrow(/truncated varint/);
    expect(() => decodeMessage(criSchema, "ContainerConfig", Uint8Array.from([0x2a, 0x05, 0x61]))).toThrow(/field 5 runs past the end of the message/);
    expect(() => decodeMessage(criSchema, "ContainerConfig", Uint8Array.from([0x2a, 0xff, 0xff, 0xff, 0xff, 0x0f]))).toThrow(/field 5 runs past the end/);
    expect(() => decodeMessage(criSchema, "ContainerConfig", Uint8Array.from([0x79, 1, 2, 3]))).toThrow(/field 15 runs past the end/);
  });

  it("refuse a varint longer than 10 bytes", () => {
    expect(() => decodeMessage(criSchema, "ContainerConfig", Uint8Array.from([0x60, ...Array<number>(11).fill(0x80), 0]))).toThrow(/varint longer than 10 bytes/);
  });

  it.each([3, 4, 6, 7])("refuse wire type %i", (wire) => {
    expect(() => decodeMessage(criSchema, "ContainerConfig", Uint8Array.from([(1 << 3) | wire, 0]))).toThrow(new RegExp(`wire type ${wire}`));
  });

  it("refuse field number 0", () => {
    expect(() => decodeMessage(criSchema, "ContainerConfig", Uint8Array.from([0x00, 0x00]))).toThrow(/field number 0/);
  });

  it("refuse a field number above 2^29 - 1 (a garbled tag, not an unknown field)", () => {
    const tag = new ProtoWriter().varint(2 ** 29 * 8).varint(0).finish();
    expect(() => decodeMessage(criSchema, "ContainerConfig", tag)).toThrow(/field number 536870912 at byte 0 \(field numbers are 1 to 536870911\)/);
  });

  it("refuse a known field with the wrong wire type instead of misreading it", () => {
    // working_dir (5, a string) as a varint; metadata (1, a message) as a fixed32
    expect(() => decodeMessage(criSchema, "ContainerConfig", Uint8Array.from([5 << 3, 1]))).toThrow(/field 5 has wire type 0, string needs 2/);
    expect(() => decodeMessage(criSchema, "ContainerConfig", Uint8Array.from([(1 << 3) | 5, 0, 0, 0, 0]))).toThrow(/field 1 \(metadata\) is a message but has wire type 5/);
  });

  it("inside a nested message fail like the same bytes at the top", () => {
    const badResources = Uint8Array.from([0x0a, 0x02, 0x20, 0x80]); // resources { memory: <truncated varint> }
    expect(() => decodeMessage(criSchema, "ContainerConfig", new ProtoWriter().delimited(15, badResources).finish())).toThrow(/truncated varint/);
  });

  it("refuse packed fixed-size values that are not a whole number of values (no read past the field)", () => {
    // rf32 (17) packed with 6 bytes, followed by more bytes a wrong reader would take as the second value
    const bytes = Buffer.concat([new ProtoWriter().delimited(17, Uint8Array.from([1, 0, 0, 0, 2, 0])).finish(), encodeMessage(kindsSchema, "AllKinds", { s: "xy" })]);
    expect(() => decodeMessage(kindsSchema, "AllKinds", bytes)).toThrow(/packed fixed32 values: 6 bytes is not a whole number of 4-byte values/);
    const doubles = new ProtoWriter().delimited(16, Uint8Array.from([0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 1])).finish();
    expect(() => decodeMessage(kindsSchema, "AllKinds", doubles)).toThrow(ProtoWireError);
  });

  it("of a type the codec cannot read (sint64's zigzag) fail instead of reading it as int64", () => {
    const schema: SchemaSet = { Z: [["z", 1, "sint64", 0]] };
    expect(() => decodeMessage(schema, "Z", Uint8Array.from([0x08, 0x03]))).toThrow(/unknown type sint64/);
  });

  it("random bytes either decode as protobufjs decodes them or fail with ProtoWireError, never another error", () => {
    const random = seeded(7);
    const type = criType("ContainerConfig");
    let decoded = 0;
    for (let i = 0; i < 2000; i++) {
      // mostly valid messages with a few bytes changed, so that the walk goes deep before it fails
      const bytes = Buffer.from(encodeMessage(criSchema, "ContainerConfig", randomMessage(random, criSchema, "ContainerConfig", 0)));
      for (let k = 0; k < 1 + random.int(3) && bytes.length; k++) bytes[random.int(bytes.length)] = random.int(256);
      let ours: DecodedMessage | undefined;
      try {
        ours = decodeMessage(criSchema, "ContainerConfig", bytes);
      } catch (error) {
        expect(error).toBeInstanceOf(ProtoWireError);
        continue;
      }
      decoded++;
      if (mergesMessages(criSchema, "ContainerConfig", bytes)) continue; // see "merges a message field that occurs twice"
      let theirs: Record<string, unknown>;
      try {
        theirs = pbDecode(type, bytes);
      } catch {
        continue; // protobufjs refuses some bytes ours accepts (e.g. wire types it cannot skip in a map entry)
      }
      expect(canonical(criSchema, "ContainerConfig", ours), `bytes ${bytes.toString("hex")}`).toEqual(canonical(criSchema, "ContainerConfig", theirs));
    }
    expect(decoded).toBeGreaterThan(100);
  });
});

/** Whether `bytes` hold a singular message field twice in some message (protobufjs keeps the last, protobuf merges). */
function mergesMessages(schemas: SchemaSet, name: string, bytes: Uint8Array): boolean {
  const seen = new Set<number>();
  for (const field of walkFields(bytes)) {
    const spec = schemas[name]!.find((s) => s[1] === field.no);
    if (!spec || !schemas[spec[2]] || spec[3] === 2) continue;
    if (spec[3] === 0 && seen.has(field.no)) return true;
    seen.add(field.no);
    if (mergesMessages(schemas, spec[2], bytes.subarray(field.valueStart, field.end))) return true;
  }
  return false;
}

describe("a message field that occurs twice", () => {
  it("is merged, as the protobuf spec says: fields of both occurrences, the last one winning per field", () => {
    const bytes = Buffer.concat([
      encodeMessage(criSchema, "ContainerConfig", { metadata: { name: "first", attempt: 1 }, linux: { resources: { cpu_shares: 2, memory_limit_in_bytes: 5 } } }),
      encodeMessage(criSchema, "ContainerConfig", { metadata: { attempt: 7 }, linux: { resources: { memory_limit_in_bytes: 9 } } }),
    ]);
    const decoded = decodeMessage(criSchema, "ContainerConfig", bytes);
    expect(decoded["metadata"]).toEqual({ name: "first", attempt: 7 });
    expect((decoded["linux"] as DecodedMessage)["resources"]).toMatchObject({ cpu_shares: 2, memory_limit_in_bytes: 9 });
  });

  it("is rewritten as one merged occurrence when a field in it changes", () => {
    const bytes = Buffer.concat([encodeMessage(criSchema, "ContainerConfig", { metadata: { name: "first" } }), encodeMessage(criSchema, "ContainerConfig", { metadata: { attempt: 7 } })]);
    const before = decodeMessage(criSchema, "ContainerConfig", bytes);
    const rewritten = rewriteMessage(criSchema, "ContainerConfig", bytes, before, { ...before, metadata: { name: "first", attempt: 8 } });
    expect(walkFields(rewritten).filter((f) => f.no === 1)).toHaveLength(1);
    expect(pbDecode(criType("ContainerConfig"), rewritten)["metadata"]).toEqual({ name: "first", attempt: 8 });
  });
});

describe("repeated scalars", () => {
  const unpacked = (no: number, wire: WireType, write: (w: ProtoWriter, v: number) => void, values: number[]): Buffer => {
    const w = new ProtoWriter();
    for (const v of values) write(w.tag(no, wire), v);
    return w.finish();
  };

  it("decode packed (as protobufjs writes them) and unpacked (as a proto2 peer writes them) to the same list", () => {
    const packed = pbEncode(criType("LinuxContainerSecurityContext"), { supplemental_groups: [1, -2, 3] });
    const flat = unpacked(8, 0, (w, v) => w.varint(v), [1, -2, 3]);
    expect(walkFields(packed)).toHaveLength(1);
    expect(walkFields(flat)).toHaveLength(3);
    expect(decodeMessage(criSchema, "LinuxContainerSecurityContext", packed)["supplemental_groups"]).toEqual([1, -2, 3]);
    expect(decodeMessage(criSchema, "LinuxContainerSecurityContext", flat)["supplemental_groups"]).toEqual([1, -2, 3]);
  });

  it("decode a mix of packed runs and unpacked values in wire order", () => {
    const bytes = Buffer.concat([
      new ProtoWriter().delimited(8, new ProtoWriter().varint(1).varint(2).finish()).finish(),
      unpacked(8, 0, (w, v) => w.varint(v), [3]),
      new ProtoWriter().delimited(8, new ProtoWriter().varint(4).finish()).finish(),
    ]);
    expect(decodeMessage(criSchema, "LinuxContainerSecurityContext", bytes)["supplemental_groups"]).toEqual([1, 2, 3, 4]);
    expect((pbDecode(criType("LinuxContainerSecurityContext"), bytes)["supplemental_groups"] as string[]).map(Number)).toEqual([1, 2, 3, 4]);
  });

  it("decode packed and unpacked fixed32, double and float lists alike", () => {
    const fixed = (size: 4 | 8, set: (view: DataView, v: number) => void) => (w: ProtoWriter, v: number) => {
      const bytes = new Uint8Array(size);
      set(new DataView(bytes.buffer), v);
      w.raw(bytes);
    };
    const f32 = fixed(4, (view, v) => view.setUint32(0, v, true));
    const f64 = fixed(8, (view, v) => view.setFloat64(0, v, true));
    const flt = fixed(4, (view, v) => view.setFloat32(0, v, true));
    const value = { rf32: [1, 4_000_000_000], rd: [0.25, -1e-300], rf: [Math.fround(1.1)] };
    const packed = pbEncode(kindsType("AllKinds"), value);
    const flat = Buffer.concat([unpacked(17, 5, f32, value.rf32), unpacked(16, 1, f64, value.rd), unpacked(29, 5, flt, value.rf)]);
    expect(decodeMessage(kindsSchema, "AllKinds", packed)).toMatchObject(value);
    expect(decodeMessage(kindsSchema, "AllKinds", flat)).toMatchObject(value);
  });

  it("encode packed, as proto3 wants and protobufjs reads", () => {
    const bytes = encodeMessage(criSchema, "LinuxContainerSecurityContext", { supplemental_groups: [1, -2, 3] });
    expect(walkFields(bytes)).toHaveLength(1);
    expect(walkFields(bytes)[0]!.wire).toBe(2);
    expect((pbDecode(criType("LinuxContainerSecurityContext"), bytes)["supplemental_groups"] as string[]).map(Number)).toEqual([1, -2, 3]);
  });
});

describe("64-bit integers beyond Number.MAX_SAFE_INTEGER", () => {
  const resources = (value: Record<string, unknown>): DecodedMessage => decodeMessage(criSchema, "LinuxContainerResources", pbEncode(criType("LinuxContainerResources"), value));

  it("decode to the exact bigint, not a rounded number (2^53 + 1 stays odd)", () => {
    expect(resources({ memory_limit_in_bytes: "9007199254740993" })["memory_limit_in_bytes"]).toBe(9_007_199_254_740_993n);
  });

  it("decode the int64 extremes and negative values past -2^53 exactly", () => {
    expect(resources({ cpu_quota: "9223372036854775807" })["cpu_quota"]).toBe(9_223_372_036_854_775_807n);
    expect(resources({ cpu_quota: "-9223372036854775808" })["cpu_quota"]).toBe(-9_223_372_036_854_775_808n);
    expect(resources({ cpu_quota: "-9007199254740993" })["cpu_quota"]).toBe(-9_007_199_254_740_993n);
  });

  it("decode the uint64 maximum exactly", () => {
    const decoded = decodeMessage(criSchema, "HugepageLimit", pbEncode(criType("HugepageLimit"), { limit: "18446744073709551615" }));
    expect(decoded["limit"]).toBe(18_446_744_073_709_551_615n);
  });

  it("decode values a number holds exactly as numbers, negative ones included", () => {
    expect(resources({ cpu_quota: -1, memory_limit_in_bytes: "9007199254740991", oom_score_adj: "-9007199254740991" })).toMatchObject({ cpu_quota: -1, memory_limit_in_bytes: 9_007_199_254_740_991, oom_score_adj: -9_007_199_254_740_991 });
  });

  it("encode from a bigint to the value protobufjs reads, digit for digit", () => {
    const bytes = encodeMessage(criSchema, "LinuxContainerResources", { memory_limit_in_bytes: 9_007_199_254_740_993n, cpu_quota: -9_223_372_036_854_775_808n });
    expect(pbDecode(criType("LinuxContainerResources"), bytes)).toMatchObject({ memory_limit_in_bytes: "9007199254740993", cpu_quota: "-9223372036854775808" });
    const fixed = encodeMessage(kindsSchema, "AllKinds", { f64: 18_446_744_073_709_551_615n, sf64: -9_007_199_254_740_993n });
    expect(pbDecode(kindsType("AllKinds"), fixed)).toMatchObject({ f64: "18446744073709551615", sf64: "-9007199254740993" });
  });

  it("survive a rewrite of another field unchanged, in bytes and in value", () => {
    const bytes = pbEncode(criType("LinuxContainerResources"), { memory_limit_in_bytes: "9007199254740993", cpu_shares: 2 });
    const before = decodeMessage(criSchema, "LinuxContainerResources", bytes);
    const rewritten = rewriteMessage(criSchema, "LinuxContainerResources", bytes, before, { ...before, cpu_shares: 4 });
    expect(pbDecode(criType("LinuxContainerResources"), rewritten)).toMatchObject({ memory_limit_in_bytes: "9007199254740993", cpu_shares: "4" });
  });
});

/** A small seeded generator (mulberry32), so that a failing case can be run again. */
interface Random {
  next(): number;
  int(below: number): number;
  chance(p: number): boolean;
}

function seeded(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return { next, int: (below) => Math.floor(next() * below), chance: (p) => next() < p };
}

const alphabet = ["a", "Z", "0", "=", ":", "/", " ", "-", "é", "日本", "🙂", "\n", "\t", "\u0000", "%", '"'];

function randomString(random: Random): string {
  let s = "";
  for (let n = random.int(12); n > 0; n--) s += alphabet[random.int(alphabet.length)];
  return s;
}

/** A random 64-bit pattern, as the codec gives it back: a number when exact, else a bigint. */
function random64(random: Random, signed: boolean): number | bigint {
  const pick = random.int(4);
  let value: bigint;
  if (pick === 0) value = BigInt(random.int(2001) - (signed ? 1000 : 0));
  else if (pick === 1) value = BigInt(Math.floor((random.next() * 2 - (signed ? 1 : 0)) * Number.MAX_SAFE_INTEGER));
  else if (pick === 2) value = [0n, 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n - 1n, ...(signed ? [-1n, -(2n ** 63n), -(2n ** 53n) - 1n] : [2n ** 64n - 1n])][random.int(signed ? 8 : 6)]!;
  else {
    const bits = (BigInt(random.int(2 ** 32)) << 32n) | BigInt(random.int(2 ** 32));
    value = signed ? BigInt.asIntN(64, bits) : bits;
  }
  return value >= -BigInt(Number.MAX_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

function randomScalar(random: Random, type: string): unknown {
  switch (type) {
    case "string":
      return randomString(random);
    case "bool":
      return random.chance(0.5);
    case "enum":
      return random.int(4);
    case "int32":
      return random.int(2 ** 32) - 2 ** 31;
    case "uint32":
      return random.chance(0.2) ? 4_294_967_295 : random.int(2 ** 32);
    case "int64":
      return random64(random, true);
    case "uint64":
      return random64(random, false);
    default:
      throw new Error(`no generator for ${type}`);
  }
}

/** A random message of `name`: each field present with some chance, lists and maps of up to 3 items. */
function randomMessage(random: Random, schemas: SchemaSet, name: string, depth: number): DecodedMessage {
  const out: DecodedMessage = {};
  const presence = depth === 0 ? 0.8 : 0.5;
  for (const [field, , type, label] of schemas[name]!) {
    if (!random.chance(presence)) continue;
    const one = (): unknown => (schemas[type] ? randomMessage(random, schemas, type, depth + 1) : randomScalar(random, type));
    if (label === 1) out[field] = Array.from({ length: random.int(4) }, one);
    else if (label === 2) out[field] = Object.fromEntries(Array.from({ length: random.int(4) }, () => [randomString(random), one()]));
    else out[field] = one();
  }
  return out;
}

describe("property: random ContainerConfigs", () => {
  it("round-trip ours → protobufjs → ours with every value kept (400 seeded cases)", () => {
    const random = seeded(20_250_101);
    const type = criType("ContainerConfig");
    for (let i = 0; i < 400; i++) {
      const value = randomMessage(random, criSchema, "ContainerConfig", 0);
      const ours = encodeMessage(criSchema, "ContainerConfig", value);
      const message = type.decode(ours);
      const expected = canonical(criSchema, "ContainerConfig", value);
      expect(canonical(criSchema, "ContainerConfig", type.toObject(message, { longs: String, enums: Number })), `case ${i}`).toEqual(expected);
      const back = decodeMessage(criSchema, "ContainerConfig", type.encode(message).finish());
      expect(canonical(criSchema, "ContainerConfig", back), `case ${i}`).toEqual(expected);
    }
  });

  it("rewrite to bytes protobufjs reads as the changed config, for a random change to a random config (200 seeded cases)", () => {
    const random = seeded(42);
    const type = criType("ContainerConfig");
    for (let i = 0; i < 200; i++) {
      const bytes = encodeMessage(criSchema, "ContainerConfig", randomMessage(random, criSchema, "ContainerConfig", 0));
      const before = decodeMessage(criSchema, "ContainerConfig", bytes);
      const after = structuredClone(before);
      const change = randomMessage(random, criSchema, "ContainerConfig", 0);
      const keys = Object.keys(change);
      const key = keys[random.int(keys.length)];
      if (key) after[key] = change[key];
      const rewritten = rewriteMessage(criSchema, "ContainerConfig", bytes, before, after);
      expect(canonical(criSchema, "ContainerConfig", pbDecode(type, rewritten)), `case ${i}, field ${key}`).toEqual(canonical(criSchema, "ContainerConfig", after));
    }
  });
});
