/**
 * `hookplugins docker-proxy` as a process, in front of a fake engine on a socket of its own (no engine needed): the
 * project's plugins applied to a create, its socket's mode, usage errors, a refusal to share a live socket, clean
 * shutdown on SIGTERM.
 */
import { once } from "node:events";
import { existsSync, statSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { createServer, request, type Server } from "node:http";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { repoRoot, untilOutput, useCliTest } from "./cliProcess.js";

let engine: Server;
const t = useCliTest("hpdpx-", () => engine.close());
const bodies: string[] = [];

beforeEach(async () => {
  bodies.length = 0;
  engine = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      bodies.push(`${req.method} ${req.url} ${body}`);
      res.writeHead(201, { "Content-Type": "application/json" }).end('{"Id":"abc","Warnings":[]}');
    });
  });
  engine.listen(join(t.dir, "engine.sock"));
  await once(engine, "listening");
});

/** A project with the envlimits plugin. */
const project = (): Promise<string> => t.project({ plugins: [join(repoRoot, "hookplugins/envlimits")] });

function post(socket: string, path: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const req = request({ socketPath: socket, method: "POST", path, headers: { "Content-Type": "application/json" } }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString()));
      res.on("end", () => done({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", fail);
    req.end(body);
  });
}

describe("hookplugins docker-proxy", () => {
  it("serves the project's plugins in front of the engine until SIGTERM, then removes its socket", async () => {
    const root = await project();
    const socket = join(t.dir, "proxy.sock");
    const proc = t.start(["-C", root, "docker-proxy", "--listen", socket, "--upstream", `unix://${join(t.dir, "engine.sock")}`, "--handoff-dir", join(t.dir, "handoff")]);
    await untilOutput(proc, "Serving the Docker Engine API");
    expect(proc.output()).toContain(`Serving the Docker Engine API on unix://${socket} for unix://${join(t.dir, "engine.sock")}, with envlimits (stop with SIGTERM or Ctrl-C).`);
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    const reply = await post(socket, "/v1.41/containers/create", JSON.stringify({ Image: "bb", Env: ["HOOKPLUGINS_MEMORY=64m"] }));
    expect(reply.status).toBe(201);
    expect(bodies[0]).toMatch(/^POST \/v1\.41\/containers\/create .*"Memory":67108864/);
    expect(proc.output()).toContain("hookplugins docker-proxy: POST /v1.41/containers/create: changed /HostConfig/Memory by envlimits");
    proc.child.kill("SIGTERM");
    expect(await proc.exit).toBe(0);
    expect(proc.output()).toContain(`SIGTERM received: stopped serving unix://${socket}.`);
    expect(existsSync(socket)).toBe(false);
  });

  it("refuses to listen on TCP without TLS and client certificates", async () => {
    const proc = t.start(["-C", await project(), "docker-proxy", "--listen", "tcp://127.0.0.1:23750", "--upstream", `unix://${join(t.dir, "engine.sock")}`]);
    expect(await proc.exit).toBe(2);
    expect(proc.output()).toContain("hookplugins: error: listening on TCP needs TLS with client certificates: --tlsverify --tlscacert <ca.pem> --tlscert <cert.pem> --tlskey <key.pem>");
  });

  it("refuses a socket another process serves, and leaves it alone", async () => {
    const root = await project();
    const socket = join(t.dir, "proxy.sock");
    const first = t.start(["-C", root, "docker-proxy", "--listen", socket, "--upstream", `unix://${join(t.dir, "engine.sock")}`, "--handoff-dir", join(t.dir, "handoff")]);
    await untilOutput(first, "Serving");
    const second = t.start(["-C", root, "docker-proxy", "--listen", socket, "--upstream", `unix://${join(t.dir, "engine.sock")}`, "--handoff-dir", join(t.dir, "handoff")]);
    expect(await second.exit).toBe(1);
    expect(second.output()).toContain(`${socket}: another process already serves this socket; stop it or choose another path`);
    expect((await post(socket, "/containers/create", '{"Image":"bb"}')).status).toBe(201);
  });

  it("names a bad engine address and the forms it takes", async () => {
    const proc = t.start(["-C", await project(), "docker-proxy", "--listen", join(t.dir, "p.sock"), "--upstream", "ftp://nowhere"]);
    expect(await proc.exit).toBe(2);
    expect(proc.output()).toMatch(/hookplugins: error: .*ftp:\/\/nowhere/);
  });
});

/** A project with envlimits and a plugin folder `name` whose index.ts is `source` (it imports from "hookplugins"). */
async function projectWith(name: string, source: string): Promise<string> {
  const root = join(t.dir, "project");
  const folder = join(root, "plugins", name);
  await mkdir(folder, { recursive: true });
  const manifest = { name, version: "1.0.0", description: `The ${name} plugin`, author: "Test Author", engines: { hookplugins: ">=0.1.0" } };
  await writeFile(join(folder, "package.json"), JSON.stringify({ name: `fixture-${name}`, private: true, type: "module", main: "index.ts", hookplugin: manifest }));
  await writeFile(join(folder, "index.ts"), source);
  await writeFile(join(root, "hookplugins.json"), JSON.stringify({ generated: false, plugins: [join(repoRoot, "hookplugins/envlimits"), folder] }));
  return root;
}

describe("hookplugins docker-proxy with a project's own plugins", () => {
  it("runs the project's DaemonPlugin.preStopHook on SIGINT and exits 0", async () => {
    const marker = join(t.dir, "stopped");
    const root = await projectWith(
      "stopper",
      `import { writeFileSync } from "node:fs";\nimport { registerDaemonPlugin } from "hookplugins";\nregisterDaemonPlugin({ name: "stopper", preStopHook() { writeFileSync(${JSON.stringify(marker)}, "preStopHook"); } });\n`,
    );
    const socket = join(t.dir, "proxy.sock");
    const proc = t.start(["-C", root, "docker-proxy", "--listen", socket, "--upstream", `unix://${join(t.dir, "engine.sock")}`, "--handoff-dir", join(t.dir, "handoff")]);
    await untilOutput(proc, "Serving the Docker Engine API");
    expect(existsSync(marker)).toBe(false);
    proc.child.kill("SIGINT");
    expect(await proc.exit).toBe(0);
    expect(proc.output()).toContain(`SIGINT received: stopped serving unix://${socket}.`);
    expect(existsSync(marker)).toBe(true);
  });

  it("answers a project plugin hanging in preCreate past --timeout 100 with 504 naming 100 ms, and sends nothing", async () => {
    const root = await projectWith("hang", `import { registerContainerPlugin } from "hookplugins";\nregisterContainerPlugin({ name: "hang", preCreate: () => new Promise<void>(() => {}) });\n`);
    const socket = join(t.dir, "proxy.sock");
    const proc = t.start(["-C", root, "docker-proxy", "--listen", socket, "--upstream", `unix://${join(t.dir, "engine.sock")}`, "--handoff-dir", join(t.dir, "handoff"), "--timeout", "100"]);
    await untilOutput(proc, "Serving the Docker Engine API");
    const reply = await post(socket, "/v1.41/containers/create", JSON.stringify({ Image: "bb" }));
    expect(reply.status).toBe(504);
    expect(JSON.parse(reply.body).message).toMatch(/plugin "hang" timed out in ContainerPlugin\.preCreate after 100 ms/);
    expect(bodies).toEqual([]);
  });

  it("writes its change log lines to stderr and only its serving line to stdout", async () => {
    const root = await project();
    const socket = join(t.dir, "proxy.sock");
    const proc = t.start(["-C", root, "docker-proxy", "--listen", socket, "--upstream", `unix://${join(t.dir, "engine.sock")}`, "--handoff-dir", join(t.dir, "handoff")]);
    await untilOutput(proc, "Serving the Docker Engine API");
    expect((await post(socket, "/v1.41/containers/create", JSON.stringify({ Image: "bb", Env: ["HOOKPLUGINS_MEMORY=64m"] }))).status).toBe(201);
    await untilOutput(proc, "changed /HostConfig/Memory");
    expect(proc.stderr()).toContain("hookplugins docker-proxy: POST /v1.41/containers/create: changed /HostConfig/Memory by envlimits (absent -> 67108864)\n");
    expect(proc.stdout()).not.toContain("changed");
    expect(proc.stdout()).toMatch(/^Serving the Docker Engine API on /);
  });
});
