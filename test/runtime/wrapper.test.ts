/**
 * The installed wrapper as engines call it, with a fake "real runtime" that records its argv: the sh script's routing,
 * `create` and `run` through the plugin step, its edits of config.json (replaced by a rename, owner kept), its errors in
 * the runtime's log format, hand-offs, the state file, time limits, the environment it needs and the node variables
 * it clears, and the files it refuses to run from. No engine and no root needed (two tests need root to give a file
 * away).
 */
import { chmodSync, chownSync, existsSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { chmod, mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toOciHooks } from "hookplugins";
import { handoffPath, writeHandoff, type PrestartHandoff } from "hookplugins/runtime";
import { probeHook } from "./fixtures/probePlugin.js";
import { itWithTools } from "../support/tools.js";
import { defaultProbes, installWrapper, makeProbeProject, probeHookScript, readTrace, removeTempDirs, runFile, tempDir, writeFakeRuntime } from "./helpers.js";

let dir: string;
let trace: string;
let project: string;
let wrapper: string;
let handoffs: string;
let fake: Awaited<ReturnType<typeof writeFakeRuntime>>;
let bundleCount = 0;

/** The network hook dockerd puts into its specs, and a poststop hook, in the text an engine wrote (spacing of its own). */
const dockerHook = '{"path":"/proc/1/exe","args":["libnetwork-setkey","-exec-root=/run/x","ID","0123456789ab"]}';
const poststop = '[ {"path": "/bin/true", "args": ["true"]} ]';

function specText(env: readonly string[] = []): string {
  return [
    "{",
    '  "ociVersion": "1.0.2-dev",',
    `  "process": {"user": {"uid": 0, "gid": 0}, "args": ["sh", "-c", "true"], "env": ${JSON.stringify(["PATH=/bin", ...env])}, "cwd": "/"},`,
    '  "root": {"path": "rootfs"},',
    '  "hostname": "probe",',
    '  "linux": {"resources": {"memory": {"limit": 9223372036854775807}, "cpu": {"shares": 512}}},',
    `  "hooks": {"prestart": [${dockerHook}], "poststop": ${poststop}}`,
    "}",
    "",
  ].join("\n");
}

/** A new bundle folder holding config.json (mode 0600); returns its path and the container id to use. */
async function newBundle(env: readonly string[] = [], name?: string): Promise<{ bundle: string; id: string; config: string }> {
  const id = `c${++bundleCount}${"0".repeat(10)}`;
  const bundle = join(dir, "bundles", name ?? id);
  await mkdir(bundle, { recursive: true });
  const config = join(bundle, "config.json");
  await writeFile(config, specText(env), { mode: 0o600 });
  return { bundle, id, config };
}

/** dockerd's argv for a create of `id` in `bundle`. */
function createArgs(bundle: string, id: string, format: "json" | "text" = "json"): string[] {
  return ["--root", join(dir, "state"), "--log", join(bundle, "log.json"), "--log-format", format, "create", "--bundle", bundle, "--pid-file", join(bundle, "init.pid"), id];
}

/** The prestart hooks of a config.json by name: a probe's name, else the hook's program name. */
function prestartNames(config: string): string[] {
  const hooks = (JSON.parse(readFileSync(config, "utf8")) as { hooks: { prestart: { path: string; args: string[] }[] } }).hooks.prestart;
  return hooks.map((h) => (h.path === probeHookScript ? h.args[2]! : h.args[0]!));
}

const logLines = (bundle: string): string[] => readFileSync(join(bundle, "log.json"), "utf8").split("\n").filter(Boolean);

beforeAll(async () => {
  dir = await tempDir();
  trace = join(dir, "trace");
  handoffs = join(dir, "handoffs");
  project = await makeProbeProject(dir, trace);
  fake = await writeFakeRuntime(dir);
  wrapper = (await installWrapper(project, dir, { runtime: fake.path, timeoutMs: 1500 })).config.wrapper;
}, 60_000);

afterAll(() => removeTempDirs());

describe("the wrapper script", () => {
  it("passes a non-create command line to the real runtime exactly, odd characters and empty arguments included", async () => {
    const before = fake.calls().length;
    const args = ["--root", "/r o/'q'", "--log=/l\"x\"", "--debug", "state", "id with spaces", "", "$HOME", "*", "a\nb", "--", "ünï", "-x"];
    expect((await runFile(wrapper, args)).code).toBe(0);
    expect(fake.calls().slice(before)).toEqual([args]);
  });

  it("passes a create command line to the real runtime exactly after the plugin step", async () => {
    const { bundle, id } = await newBundle([], "odd 'bundle' \"name\" $x *");
    const args = ["--root", join(dir, "state"), "--log-format", "json", "create", "--bundle", bundle, "--console-socket", "/tmp/odd \"sock\" $y", "--pid-file", join(bundle, "p id"), id];
    const before = fake.calls().length;
    const result = await runFile(wrapper, args);
    expect(result.stderr).toBe("");
    expect(fake.calls().slice(before)).toEqual([args]);
  });

  it("finds the subcommand after global flags with values, so a value named like a subcommand is not taken for one", async () => {
    const { bundle, id } = await newBundle();
    await runFile(wrapper, ["--root", "create", "--log-format", "run", "--criu", "run", "state", id]);
    await runFile(wrapper, ["--log", join(bundle, "log.json"), "--rootless=create", "kill", id, "KILL"]);
    expect(existsSync(join(bundle, "log.json"))).toBe(false);
    expect(readFileSync(join(bundle, "config.json"), "utf8")).toBe(specText());
  });
});

describe("the plugin step on create", () => {
  it("puts the hooks of plugins above 0 before the spec's own prestart hooks and the others after them", async () => {
    const { bundle, id, config } = await newBundle();
    expect((await runFile(wrapper, createArgs(bundle, id))).code).toBe(0);
    const hooks = (JSON.parse(readFileSync(config, "utf8")) as { hooks: { prestart: { path: string; args: string[] }[] } }).hooks.prestart;
    expect(prestartNames(config)).toEqual(["probe-early", "libnetwork-setkey", "probe-late"]);
    expect(hooks[0]).toEqual({
      path: probeHookScript,
      args: [probeHookScript, trace, "probe-early", "an arg with spaces", `id=${id}`],
      env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "PROBE_MARK=probe-early-env"],
      timeout: 10,
    });
  });

  it("changes nothing in config.json but hooks.prestart, and keeps the spec's own hooks byte for byte", async () => {
    const { bundle, id, config } = await newBundle();
    await runFile(wrapper, createArgs(bundle, id));
    const [early, late] = defaultProbes.map((p) => JSON.stringify(toOciHooks([probeHook({ ...p, trace, hook: probeHookScript }, id)])[0]));
    expect(readFileSync(config, "utf8")).toBe(specText().replace(`[${dockerHook}]`, `[${early},${dockerHook},${late}]`));
  });

  it("writes config.json atomically: same mode, no temporary file left", async () => {
    const { bundle, id, config } = await newBundle();
    await runFile(wrapper, createArgs(bundle, id));
    expect(statSync(config).mode & 0o777).toBe(0o600);
    expect(readdirSync(bundle).sort()).toEqual(["config.json"]);
  });

  it("fails the create when a plugin fails: its name, the hook and the reason in the JSON log and on stderr, the real runtime not called", async () => {
    const { bundle, id, config } = await newBundle(["PROBE_FAIL=probe-late"]);
    const before = fake.calls().length;
    const result = await runFile(wrapper, createArgs(bundle, id));
    expect(result.code).not.toBe(0);
    expect(fake.calls().length).toBe(before);
    const [line] = logLines(bundle);
    const entry = JSON.parse(line!) as { level: string; msg: string; time: string };
    expect(entry.level).toBe("error");
    expect(entry.msg).toBe(`hookplugins runtime wrapper (container ${id}): plugin "probe-late" failed in ContainerPlugin.preStart: refused by the test (PROBE_FAIL=probe-late)`);
    expect(Number.isNaN(Date.parse(entry.time))).toBe(false);
    expect(result.stderr).toBe(`${line}\n`);
    expect(readFileSync(config, "utf8")).toBe(specText(["PROBE_FAIL=probe-late"]));
  });

  it("writes errors as text lines when the log format is not json", async () => {
    const { bundle, id } = await newBundle(["PROBE_FAIL=probe-early"]);
    const result = await runFile(wrapper, createArgs(bundle, id, "text"));
    expect(result.code).not.toBe(0);
    expect(logLines(bundle)).toEqual([expect.stringMatching(/^time="[^"]+" level=error msg="hookplugins runtime wrapper \(container \w+\): plugin \\"probe-early\\" failed in ContainerPlugin.preStart: refused/)]);
  });

  it("refuses a bundle folder that does not exist, naming it, without calling the real runtime", async () => {
    const bundle = join(dir, "bundles", "missing");
    const before = fake.calls().length;
    const result = await runFile(wrapper, ["create", "--bundle", bundle, "cmissing"]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`${bundle} does not exist: no bundle to create the container from`);
    expect(fake.calls().length).toBe(before);
  });

  it("refuses a bundle without config.json, naming the file, without calling the real runtime", async () => {
    const { bundle, id, config } = await newBundle();
    await rm(config);
    const before = fake.calls().length;
    const result = await runFile(wrapper, createArgs(bundle, id));
    expect(result.code).not.toBe(0);
    expect((JSON.parse(logLines(bundle)[0]!) as { msg: string }).msg).toContain(`${config} does not exist: the bundle has no OCI spec`);
    expect(fake.calls().length).toBe(before);
  });

  it("refuses a corrupt config.json, naming it, leaving it as it was, without calling the real runtime", async () => {
    const { bundle, id, config } = await newBundle();
    writeFileSync(config, '{"ociVersion": "1.0.2", "process": {');
    const before = fake.calls().length;
    const result = await runFile(wrapper, createArgs(bundle, id));
    expect(result.code).not.toBe(0);
    expect((JSON.parse(logLines(bundle)[0]!) as { msg: string }).msg).toMatch(new RegExp(`${config} is not valid JSON \\(.*\\): the engine wrote a broken OCI spec`));
    expect(readFileSync(config, "utf8")).toBe('{"ociVersion": "1.0.2", "process": {');
    expect(fake.calls().length).toBe(before);
  });

  it("uses the proxy's hand-off for the container instead of running preStart, and removes it", async () => {
    const { bundle, id, config } = await newBundle();
    const handoff: PrestartHandoff = {
      version: 1,
      id,
      createdAt: new Date().toISOString(),
      source: "docker-proxy",
      hooks: [{ priority: 3, path: probeHookScript, args: [trace, "from-handoff"] }],
    };
    await writeHandoff(handoffs, handoff);
    expect((await runFile(wrapper, createArgs(bundle, id))).code).toBe(0);
    expect(prestartNames(config)).toEqual(["from-handoff", "libnetwork-setkey"]);
    expect(existsSync(handoffPath(handoffs, id))).toBe(false);
  });

  it("sweeps hand-offs older than ten minutes at a create, and keeps newer ones", async () => {
    const stale = { version: 1 as const, createdAt: "", source: "docker-proxy", hooks: [] };
    await writeHandoff(handoffs, { ...stale, id: "gone1" });
    await writeHandoff(handoffs, { ...stale, id: "fresh1" });
    const old = (Date.now() - 11 * 60_000) / 1000;
    utimesSync(handoffPath(handoffs, "gone1"), old, old);
    const { bundle, id } = await newBundle();
    await runFile(wrapper, createArgs(bundle, id));
    expect(existsSync(handoffPath(handoffs, "gone1"))).toBe(false);
    expect(existsSync(handoffPath(handoffs, "fresh1"))).toBe(true);
  });

  it("reads the project's state file at each create: a plugin disabled after the install is skipped", async () => {
    const state = join(project, ".hookplugins/state.json");
    await mkdir(join(project, ".hookplugins"), { recursive: true });
    await writeFile(state, JSON.stringify({ version: 1, disabled: ["probe-early"] }));
    try {
      const { bundle, id, config } = await newBundle();
      expect((await runFile(wrapper, createArgs(bundle, id))).code).toBe(0);
      expect(prestartNames(config)).toEqual(["libnetwork-setkey", "probe-late"]);
    } finally {
      await rm(state, { force: true });
    }
  });

  it("fails the create at its time limit when a plugin never settles, naming the plugin and the hook", async () => {
    const { bundle, id } = await newBundle(["PROBE_HANG=async"]);
    const started = Date.now();
    const result = await runFile(wrapper, createArgs(bundle, id));
    expect(Date.now() - started).toBeLessThan(1500 + 2000);
    expect(result.code).not.toBe(0);
    expect((JSON.parse(logLines(bundle)[0]!) as { msg: string }).msg).toBe(
      `hookplugins runtime wrapper (container ${id}): the plugin step did not finish within 1500 ms (plugin "probe-early" did not finish ContainerPlugin.preStart in time); the container was not created. Make the plugin faster, or install the wrapper with a longer --timeout`,
    );
  });

  it("stops a plugin step that blocks node at the time limit plus 2 s, and logs why", async () => {
    const { bundle, id } = await newBundle(["PROBE_HANG=sync"]);
    const before = fake.calls().length;
    const started = Date.now();
    const result = await runFile(wrapper, createArgs(bundle, id));
    expect(Date.now() - started).toBeLessThan(1500 + 2000 + 3000);
    expect(result.code).not.toBe(0);
    expect((JSON.parse(logLines(bundle)[0]!) as { msg: string }).msg).toBe(
      "hookplugins runtime wrapper: the plugin step did not finish within 3.5 s and was stopped (a plugin blocked node); the container was not created",
    );
    expect(fake.calls().length).toBe(before);
  }, 20_000);

  it("runs with an empty environment: no PATH, no HOME, no node_modules", async () => {
    const { bundle, id, config } = await newBundle();
    const step = readFileSync(`${wrapper}.mjs`, "utf8");
    expect([...step.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]).filter((s) => !s!.startsWith("node:"))).toEqual([]);
    const result = await runFile(wrapper, createArgs(bundle, id), { env: {}, cwd: "/" });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(readFileSync(config, "utf8")).toContain("probe-early");
  });
});

describe("files the wrapper refuses to run from", () => {
  it("refuses a wrapper folder that others can write, naming it and the fix, in the log format", async () => {
    const bin = join(dir, "bin");
    await chmod(bin, 0o777);
    try {
      const { bundle, id } = await newBundle();
      const before = fake.calls().length;
      const result = await runFile(wrapper, createArgs(bundle, id));
      expect(result.code).not.toBe(0);
      expect((JSON.parse(logLines(bundle)[0]!) as { msg: string }).msg).toContain(
        `refusing to run: ${bin} (on the way to the wrapper script) is writable by its group or by others (mode 0777), so users other than root could change what runs as root; fix: chmod go-w ${bin}`,
      );
      expect(fake.calls().length).toBe(before);
    } finally {
      await chmod(bin, 0o700);
    }
  });

  itWithTools("root")("refuses a plugin step that belongs to another user", async () => {
    const step = `${wrapper}.mjs`;
    chownSync(step, 65534, 65534);
    try {
      const { bundle, id } = await newBundle();
      const result = await runFile(wrapper, createArgs(bundle, id));
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain(`refusing to run: ${step} (on the way to the plugin step) belongs to uid 65534`);
    } finally {
      chownSync(step, 0, 0);
      chmodSync(step, 0o644);
    }
  });
});

describe("subcommands other than create and run", () => {
  let other: string;
  let marker: string;

  beforeAll(async () => {
    const d = await tempDir();
    marker = join(d, "node-started");
    const fakeNode = join(d, "fake-node");
    // a "node" that leaves a mark and fails: any subcommand that started it would fail and leave the mark
    await writeFile(fakeNode, `#!/bin/sh\ntouch '${marker}'\nexit 99\n`, { mode: 0o755 });
    other = (await installWrapper(project, d, { runtime: fake.path, node: fakeNode })).config.wrapper;
  }, 60_000);

  it.each([
    ["start", ["--root", "/r", "--log", "/l.json", "--log-format", "json", "start", "c1"]],
    ["state", ["--root", "/r", "state", "c1"]],
    ["kill", ["--root", "/r", "kill", "c1", "KILL"]],
    ["delete --force", ["--root", "/r", "--log", "/l.json", "--log-format", "json", "delete", "--force", "c1"]],
    ["exec", ["--root", "/r", "exec", "--process", "/p.json", "--detach", "c1"]],
    ["update", ["--root", "/r", "update", "--resources", "-", "c1"]],
    ["pause", ["--systemd-cgroup", "pause", "c1"]],
    ["features", ["features"]],
    ["--version", ["--version"]],
    ["no argument", []],
  ])("%s goes to the real runtime without starting node", async (_name, args) => {
    const before = fake.calls().length;
    expect((await runFile(other, args)).code).toBe(0);
    expect(fake.calls().slice(before)).toEqual([args]);
    expect(existsSync(marker)).toBe(false);
  });

  it("create starts node, and a node that dies without a word fails the create with its status in the log", async () => {
    const { bundle, id } = await newBundle();
    const before = fake.calls().length;
    const result = await runFile(other, createArgs(bundle, id));
    expect(existsSync(marker)).toBe(true);
    expect(result.code).toBe(99);
    expect((JSON.parse(logLines(bundle)[0]!) as { msg: string }).msg).toMatch(/^hookplugins runtime wrapper: the plugin step \(\S+fake-node \S+\.mjs\) exited with status 99 before it could say why/);
    expect(fake.calls().length).toBe(before);
  });
});

describe("a project without plugins", () => {
  let quiet: string;
  let withNode: string;
  let marker: string;
  let emptyHandoffs: string;

  beforeAll(async () => {
    const d = await tempDir();
    marker = join(d, "node-started");
    emptyHandoffs = join(d, "handoffs");
    const fakeNode = join(d, "fake-node");
    await writeFile(fakeNode, `#!/bin/sh\ntouch '${marker}'\nexit 99\n`, { mode: 0o755 });
    const empty = await makeProbeProject(d, trace, []);
    quiet = (await installWrapper(empty, join(d, "a"), { runtime: fake.path, node: fakeNode, handoffDir: emptyHandoffs })).config.wrapper;
    withNode = (await installWrapper(empty, join(d, "b"), { runtime: fake.path, handoffDir: emptyHandoffs })).config.wrapper;
  }, 60_000);

  it("creates without starting node when there is no hand-off for the container", async () => {
    const { bundle, id, config } = await newBundle();
    const before = fake.calls().length;
    expect((await runFile(quiet, createArgs(bundle, id))).code).toBe(0);
    expect(existsSync(marker)).toBe(false);
    expect(fake.calls().slice(before)).toEqual([createArgs(bundle, id)]);
    expect(readFileSync(config, "utf8")).toBe(specText());
  });

  it("starts node for a container that has a hand-off, and uses it", async () => {
    const { bundle, id, config } = await newBundle();
    await writeHandoff(emptyHandoffs, { version: 1, id, createdAt: new Date().toISOString(), source: "docker-proxy", hooks: [{ priority: -1, path: probeHookScript, args: [trace, "from-handoff"] }] });
    expect((await runFile(withNode, createArgs(bundle, id))).code).toBe(0);
    expect(prestartNames(config)).toEqual(["libnetwork-setkey", "from-handoff"]);
    expect(existsSync(handoffPath(emptyHandoffs, id))).toBe(false);
  });
});

describe("the plugin step on run", () => {
  it("runs the plugin step for `run` as for `create`, then passes the command line to the real runtime exactly", async () => {
    const { bundle, id, config } = await newBundle();
    const args = ["--root", join(dir, "state"), "--log", join(bundle, "log.json"), "--log-format", "json", "run", "--bundle", bundle, "--detach", id];
    const before = fake.calls().length;
    const result = await runFile(wrapper, args);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(prestartNames(config)).toEqual(["probe-early", "libnetwork-setkey", "probe-late"]);
    expect(fake.calls().slice(before)).toEqual([args]);
  });
});

describe("how config.json is replaced", () => {
  itWithTools("root")("replaces config.json by a rename and keeps its owner, group and mode", async () => {
    const { bundle, id, config } = await newBundle();
    chownSync(config, 1000, 1000);
    const before = statSync(config);
    expect((await runFile(wrapper, createArgs(bundle, id))).code).toBe(0);
    const after = statSync(config);
    expect(prestartNames(config)).toEqual(["probe-early", "libnetwork-setkey", "probe-late"]);
    expect(after.ino).not.toBe(before.ino);
    expect([after.uid, after.gid, after.mode & 0o7777]).toEqual([1000, 1000, 0o600]);
  });
});

describe("bundles the plugin step cannot read", () => {
  it("refuses a config.json that is a folder, naming it and the error, without calling the real runtime", async () => {
    const { bundle, id, config } = await newBundle();
    await rm(config);
    await mkdir(config);
    const before = fake.calls().length;
    const result = await runFile(wrapper, createArgs(bundle, id));
    expect(result.code).not.toBe(0);
    expect((JSON.parse(logLines(bundle)[0]!) as { msg: string }).msg).toBe(
      `hookplugins runtime wrapper (container ${id}): ${config} cannot be read (EISDIR: illegal operation on a directory, read)`,
    );
    expect(fake.calls().length).toBe(before);
  });

  it("refuses a bundle that is a regular file, saying it is not a folder, without calling the real runtime", async () => {
    const { bundle: folder, id } = await newBundle();
    const bundle = join(folder, "config.json");
    const before = fake.calls().length;
    const result = await runFile(wrapper, ["--log-format", "json", "create", "--bundle", bundle, id]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`${bundle} is not a folder: the bundle must be a folder holding config.json`);
    expect(fake.calls().length).toBe(before);
  });
});

describe("the other places the plugin step trusts", () => {
  /** Runs a create with `path` made writable by everyone (0777, no sticky bit); resolves with the error message logged. */
  async function createWithWorldWritable(path: string, restoreMode: number): Promise<{ msg: string; called: number }> {
    await chmod(path, 0o777);
    try {
      const { bundle, id } = await newBundle();
      const before = fake.calls().length;
      const result = await runFile(wrapper, createArgs(bundle, id));
      expect(result.code).not.toBe(0);
      return { msg: (JSON.parse(logLines(bundle)[0]!) as { msg: string }).msg, called: fake.calls().length - before };
    } finally {
      await chmod(path, restoreMode);
    }
  }

  it("refuses a hand-off folder that others can write, naming it as the hand-off folder, without calling the real runtime", async () => {
    await mkdir(handoffs, { recursive: true, mode: 0o700 });
    const { msg, called } = await createWithWorldWritable(handoffs, 0o700);
    expect(msg).toContain(`refusing to run: ${handoffs} (on the way to the hand-off folder) is writable by its group or by others (mode 0777)`);
    expect(called).toBe(0);
  });

  it("refuses a state file folder that others can write, naming it as the plugin state file's, without calling the real runtime", async () => {
    const folder = join(project, ".hookplugins");
    await mkdir(folder, { recursive: true, mode: 0o755 });
    const { msg, called } = await createWithWorldWritable(folder, 0o755);
    expect(msg).toContain(`refusing to run: ${folder} (on the way to the plugin state file) is writable by its group or by others (mode 0777)`);
    expect(called).toBe(0);
  });

  it("refuses a real runtime that others can write, naming it as the real runtime, without calling it", async () => {
    const { msg, called } = await createWithWorldWritable(fake.path, 0o755);
    expect(msg).toContain(`refusing to run: ${fake.path} (on the way to the real runtime) is writable by its group or by others (mode 0777)`);
    expect(called).toBe(0);
  });
});

describe("the environment the plugin step runs in", () => {
  it("runs without the caller's NODE_OPTIONS: a module it names with --import is not loaded", async () => {
    const d = await tempDir();
    const marker = join(d, "imported");
    const module = join(d, "inject.mjs");
    await writeFile(module, `import { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(marker)}, "loaded");\n`);
    const { bundle, id, config } = await newBundle();
    const result = await runFile(wrapper, createArgs(bundle, id), { env: { ...process.env, NODE_OPTIONS: `--import=${module}` } });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(prestartNames(config)).toEqual(["probe-early", "libnetwork-setkey", "probe-late"]);
    expect(existsSync(marker)).toBe(false);
  });

  it("runs without the caller's NODE_EXTRA_CA_CERTS: node reads no certificate file at start (no warning for a missing one)", async () => {
    const { bundle, id } = await newBundle();
    const result = await runFile(wrapper, createArgs(bundle, id), { env: { ...process.env, NODE_EXTRA_CA_CERTS: join(dir, "no-such-ca.pem") } });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
  });
});
