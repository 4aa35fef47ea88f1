/**
 * `hookplugins docker-plugin` as a process, on a socket of its own (no dockerd needed): usage errors, the project's
 * plugins served, the state file honoured, external plugins the project lists, clean shutdown.
 */
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { post } from "../external/helpers.js";
import { repoRoot, untilOutput, useCliTest } from "./cliProcess.js";

const t = useCliTest("hpdpc-");

const privilegedCreate = JSON.stringify({
  RequestMethod: "POST",
  RequestUri: "/v1.41/containers/create?name=x",
  RequestBody: Buffer.from(JSON.stringify({ Image: "bb", HostConfig: { Privileged: true } })).toString("base64"),
});

describe("hookplugins docker-plugin", () => {
  it("exits with status 2 and says what to add when it would serve nothing", async () => {
    const p = t.start(["-C", await t.project({ plugins: [] }), "docker-plugin", "--name", "x", "--socket", join(t.dir, "s.sock")]);
    expect(await p.exit).toBe(2);
    expect(p.output()).toContain("docker-plugin serves nothing: give --authz, --volume-driver, or both");
  });

  it("exits with status 2 when --volume-driver has no --volume-root", async () => {
    const p = t.start(["-C", await t.project({ plugins: [] }), "docker-plugin", "--name", "x", "--volume-driver", "--socket", join(t.dir, "s.sock")]);
    expect(await p.exit).toBe(2);
    expect(p.output()).toContain("--volume-driver needs --volume-root <dir>");
  });

  it("serves the project's plugins on its socket and stops cleanly on SIGTERM, removing the socket", async () => {
    const root = await t.project({ plugins: [join(repoRoot, "hookplugins/envlimits"), join(repoRoot, "hookplugins/policy")] });
    const socket = join(t.dir, "bridge.sock");
    const p = t.start(["-C", root, "docker-plugin", "--name", "hpcli", "--authz", "--volume-driver", "--volume-root", join(t.dir, "vols"), "--socket", socket], {
      HOOKPLUGINS_POLICY: '{"denyPrivileged": true}',
    });
    await untilOutput(p, "Serving");
    expect(p.output()).toContain(`Serving envlimits, policy as Docker plugin "hpcli" (authz, VolumeDriver) on ${socket}; on change: deny.`);
    expect((await post(socket, "/Plugin.Activate")).json).toEqual({ Implements: ["authz", "VolumeDriver"] });
    const reply = (await post(socket, "/AuthZPlugin.AuthZReq", privilegedCreate)).json as { Allow: boolean; Msg: string };
    expect(reply.Allow).toBe(false);
    expect(reply.Msg).toContain('plugin "policy" failed in ContainerPlugin.preCreate: policy rule denyPrivileged');
    p.child.kill("SIGTERM");
    expect(await p.exit).toBe(0);
    expect(p.output()).toContain('SIGTERM received: stopped serving Docker plugin "hpcli".');
    expect(existsSync(socket)).toBe(false);
  });

  it("skips the plugins the state file disables", async () => {
    const root = await t.project({ plugins: [join(repoRoot, "hookplugins/policy")], stateFile: "state.json" });
    await writeFile(join(root, "state.json"), JSON.stringify({ version: 1, disabled: ["policy"] }));
    const socket = join(t.dir, "bridge.sock");
    const p = t.start(["-C", root, "docker-plugin", "--name", "hpcli", "--authz", "--socket", socket], { HOOKPLUGINS_POLICY: '{"denyPrivileged": true}' });
    await untilOutput(p, "Serving");
    expect(p.output()).toContain("Serving no plugins as Docker plugin");
    expect((await post(socket, "/AuthZPlugin.AuthZReq", privilegedCreate)).json).toEqual({ Allow: true });
  });

  it("serves the external plugins the project lists: policy served out of process by `hookplugins serve`", async () => {
    const sockets = join(t.dir, "sockets");
    await mkdir(sockets);
    const served = t.start(["serve", join(repoRoot, "hookplugins/policy"), "--socket", join(sockets, "policy.sock")], { HOOKPLUGINS_POLICY: '{"denyPrivileged": true}' });
    await untilOutput(served, "Serving plugin");
    const root = await t.project({ plugins: [], external: { socketDirs: [sockets] } });
    const socket = join(t.dir, "bridge.sock");
    const p = t.start(["-C", root, "docker-plugin", "--name", "hpcli", "--authz", "--socket", socket]);
    await untilOutput(p, "Serving");
    expect(p.output()).toContain('Serving policy as Docker plugin "hpcli"');
    const reply = (await post(socket, "/AuthZPlugin.AuthZReq", privilegedCreate)).json as { Allow: boolean; Msg: string };
    expect(reply.Allow).toBe(false);
    expect(reply.Msg).toContain('plugin "policy" failed in ContainerPlugin.preCreate: policy rule denyPrivileged: privileged containers are not allowed');
  });
});
