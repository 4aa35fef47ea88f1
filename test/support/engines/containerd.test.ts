/**
 * The containerd harness (startContainerd): a standalone containerd 1.6 on a private socket serves its CRI plugin,
 * holds the busybox image in the k8s.io namespace, runs containers with `ctr run`, and stop() leaves nothing
 * behind; with `cri: false` the CRI plugin is off.
 */
import { existsSync, readFileSync } from "node:fs";
import { connect as http2Connect } from "node:http2";
import { connect as netConnect } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { containerdFixedPaths, containerdImage, containerdTools, criNamespace, startContainerd, type Containerd } from "./containerd.js";
import { cgroupRoots, isAlive, leftOutside, leftoversOf, noteOutside, waitForExit, type OutsidePath } from "./processes.js";
import { describeWithTools } from "../tools.js";

/** The status ctr reports for the CRI plugin ("ok", "error", "skip"...), or undefined when it is not listed. */
async function criStatus(c: Containerd): Promise<string | undefined> {
  const plugins = await c.ctr(["plugins", "list"]);
  const line = plugins.stdout.split("\n").find((l) => /^io\.containerd\.grpc\.v1\s+cri\s/.test(l));
  return line?.trim().split(/\s+/).at(-1);
}

/** Reads a protobuf varint at `at`; returns it and the offset after it. */
function varint(buf: Buffer, at: number): [number, number] {
  let value = 0;
  for (let shift = 0; ; shift += 7) {
    const byte = buf[at++]!;
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return [value, at];
  }
}

/**
 * Calls CRI `runtime.v1.RuntimeService/Version` on `socketPath` with plain HTTP/2 (an empty request, so no generated
 * client is needed) and decodes the reply's string fields by number: 2 runtime_name, 3 runtime_version,
 * 4 runtime_api_version.
 */
function criVersion(socketPath: string): Promise<Record<number, string>> {
  return new Promise((resolve, reject) => {
    const session = http2Connect("http://localhost", { createConnection: () => netConnect(socketPath) });
    session.once("error", reject);
    const call = session.request({ ":method": "POST", ":path": "/runtime.v1.RuntimeService/Version", "content-type": "application/grpc", te: "trailers" });
    const chunks: Buffer[] = [];
    call.on("data", (chunk: Buffer) => chunks.push(chunk));
    call.once("error", reject);
    call.once("end", () => {
      session.close();
      const body = Buffer.concat(chunks);
      if (body.length < 5) return reject(new Error("no gRPC message in the reply"));
      const message = body.subarray(5, 5 + body.readUInt32BE(1));
      const fields: Record<number, string> = {};
      for (let at = 0; at < message.length; ) {
        const [key, afterKey] = varint(message, at);
        const [length, afterLength] = varint(message, afterKey);
        fields[key >> 3] = message.subarray(afterLength, afterLength + length).toString("utf8");
        at = afterLength + length;
      }
      resolve(fields);
    });
    call.end(Buffer.alloc(5)); // uncompressed, length 0: an empty VersionRequest
  });
}

describeWithTools(containerdTools, "startContainerd: a standalone containerd with its CRI plugin", () => {
  let c: Containerd;
  let outside: OutsidePath[];

  beforeAll(async () => {
    outside = noteOutside(containerdFixedPaths);
    c = await startContainerd();
  }, 120_000);

  afterAll(async () => {
    await c?.stop();
  }, 120_000);

  it("serves the CRI plugin on its private socket", async () => {
    expect(c.socketPath).toBe(join(c.dir, "containerd.sock"));
    expect(c.cri).toBe(true);
    expect(await criStatus(c)).toBe("ok");
  });

  it("answers CRI runtime.v1 calls on its socket", async () => {
    const version = await criVersion(c.socketPath);
    expect(version[2]).toBe("containerd");
    expect(version[3]).toMatch(/^1\.6\./);
    expect(version[4]).toBe("v1");
  });

  it("holds the busybox image, also the CRI sandbox image, in the k8s.io namespace", async () => {
    expect(c.namespace).toBe(criNamespace);
    expect(c.image).toBe(containerdImage);
    const images = await c.ctr(["-n", "k8s.io", "images", "list", "-q"]);
    expect(images.stdout.split("\n")).toContain(containerdImage);
    expect(readFileSync(c.configFile, "utf8")).toContain(`sandbox_image = "${containerdImage}"`);
  });

  it("runs a container with ctr run, with the image's PATH", async () => {
    const r = await c.ctr(["run", "--rm", c.image, "hp-run-1", "sh", "-c", 'echo "hello from containerd $PATH"']);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("hello from containerd /usr/sbin:/usr/bin:/sbin:/bin\n");
  });

  it("runs the image's own command (sleep 3600) when ctr run is given none", async () => {
    const r = await c.ctr(["run", "-d", c.image, "hp-sleeper"]);
    expect(r.code).toBe(0);
    const tasks = await c.ctr(["tasks", "list"]);
    expect(tasks.stdout).toMatch(/^hp-sleeper\s+\d+\s+RUNNING$/m);
    const pid = Number(/^hp-sleeper\s+(\d+)/m.exec(tasks.stdout)![1]);
    expect(readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean)).toEqual(["/bin/sleep", "3600"]);
  });

  it("stop() stops containerd, its shims and their containers, and removes every file of the run", async () => {
    const pid = Number(/^hp-sleeper\s+(\d+)/m.exec((await c.ctr(["tasks", "list"])).stdout)![1]);
    const address = readFileSync(join(c.dir, "state/io.containerd.runtime.v2.task/k8s.io/hp-sleeper/address"), "utf8").trim();
    const shimSocket = address.replace(/^unix:\/\//, "");
    expect(existsSync(shimSocket)).toBe(true);
    expect(leftoversOf(c.dir).mounts.length).toBeGreaterThan(0); // the running container's rootfs

    await c.stop();
    await c.stop();

    expect(leftoversOf(c.dir)).toEqual({ processes: [], mounts: [], folderExists: false });
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(shimSocket)).toBe(false);
    expect(existsSync("/run/containerd/runc/k8s.io/hp-sleeper")).toBe(false);
    expect(cgroupRoots().filter((root) => existsSync(join(root, "k8s.io", "hp-sleeper")))).toEqual([]);
    expect(leftOutside(outside)).toEqual([]);
  }, 60_000);

  it("with cri: false serves no CRI plugin, and still runs containers", async () => {
    const plain = await startContainerd({ cri: false });
    try {
      expect(await criStatus(plain)).not.toBe("ok");
      const r = await plain.ctr(["run", "--rm", plain.image, "hp-plain", "echo", "plain"]);
      expect(r.stdout).toBe("plain\n");
    } finally {
      await plain.stop();
    }
    expect(leftoversOf(plain.dir)).toEqual({ processes: [], mounts: [], folderExists: false });
  }, 60_000);

  it("stop() after containerd died kills its shims and their containers, and removes every file of the run", async () => {
    const crashed = await startContainerd({ cri: false });
    expect((await crashed.ctr(["run", "-d", crashed.image, "hp-orphan", "sleep", "600"])).code).toBe(0);
    const pid = Number(/^hp-orphan\s+(\d+)/m.exec((await crashed.ctr(["tasks", "list"])).stdout)![1]);
    const shimSocket = readFileSync(join(crashed.dir, "state/io.containerd.runtime.v2.task/k8s.io/hp-orphan/address"), "utf8").trim().replace(/^unix:\/\//, "");
    expect(existsSync("/run/containerd/runc/k8s.io/hp-orphan/state.json")).toBe(true);
    process.kill(crashed.pid, "SIGKILL");
    expect(await waitForExit(crashed.pid, 5_000)).toBe(true);
    const started = Date.now();
    await crashed.stop();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(leftoversOf(crashed.dir)).toEqual({ processes: [], mounts: [], folderExists: false });
    expect(isAlive(pid)).toBe(false);
    expect(existsSync("/run/containerd/runc/k8s.io/hp-orphan")).toBe(false);
    expect(existsSync(shimSocket)).toBe(false);
    expect(leftOutside(outside)).toEqual([]);
  }, 60_000);
});
