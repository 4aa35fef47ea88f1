/**
 * npm run bench:docker: one AuthZPlugin.AuthZReq round trip for `docker create` through the Docker bridge (envlimits and
 * policy, over a UNIX socket with keep-alive), against the floor: the same request to a bare v1 plugin server on the
 * same socket kind whose handler allows at once. Also the in-process preCreate with and without the audit.
 */
import { Agent, request } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import os, { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createHost, createRegistry, type AuditEntry, type ContainerCreateConfig } from "hookplugins";
import { createDockerBridge } from "hookplugins/docker";
import { listenV1Plugin } from "../src/external/v1Server.js";
import { envLimitsPlugin } from "../hookplugins/envlimits/index.js";
import { createPolicyPlugins } from "../hookplugins/policy/index.js";

const calls = Number(process.env["BENCH_CALLS"] ?? 3000);
const concurrency = Number(process.env["BENCH_CONCURRENCY"] ?? 32);

// the body the docker 28.2 CLI sends for `docker create --network none bb true` (as dockerd forwards it)
const createBody = {
  Hostname: "", Domainname: "", User: "", AttachStdin: false, AttachStdout: true, AttachStderr: true, Tty: false, OpenStdin: false,
  StdinOnce: false, Env: null, Cmd: ["true"], Image: "bb", Volumes: {}, WorkingDir: "", Entrypoint: null, OnBuild: null, Labels: {},
  HostConfig: {
    Binds: null, ContainerIDFile: "", LogConfig: { Type: "", Config: {} }, NetworkMode: "none", PortBindings: {}, RestartPolicy: { Name: "no", MaximumRetryCount: 0 },
    AutoRemove: false, VolumeDriver: "", VolumesFrom: null, CapAdd: null, CapDrop: null, Dns: [], DnsOptions: [], DnsSearch: [], Privileged: false,
    ReadonlyRootfs: false, ShmSize: 0, CpuShares: 0, Memory: 0, NanoCpus: 0, CpuPeriod: 0, CpuQuota: 0, MemorySwap: 0, MemorySwappiness: -1, PidsLimit: 0,
  },
  NetworkingConfig: { EndpointsConfig: {} },
} as unknown as ContainerCreateConfig;
const authzBody = `${JSON.stringify({
  RequestMethod: "POST",
  RequestUri: "/v1.41/containers/create?name=c1",
  RequestBody: Buffer.from(`${JSON.stringify(createBody)}\n`).toString("base64"),
  RequestHeaders: { "Content-Length": "1475", "Content-Type": "application/json", "User-Agent": "Docker-Client/28.2.2 (linux)" },
})}\n`;

function post(agent: Agent, socketPath: string, path: string, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ agent, socketPath, path, method: "POST", headers: { Accept: "application/vnd.docker.plugins.v1.2+json", "Content-Length": Buffer.byteLength(body) } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve(text));
    });
    req.on("error", reject);
    req.end(body);
  });
}

interface Figures {
  p50: number;
  p99: number;
  perSecond: number;
}

/**
 * Measures every call in `ones` in alternating slices (sequential latencies, then bursts of `concurrency` callers),
 * so that load from other processes on this shared machine hits them alike.
 */
async function measureAlternating(ones: readonly (() => Promise<unknown>)[], rounds = 10): Promise<Figures[]> {
  for (const one of ones) for (let i = 0; i < 300; i++) await one();
  const slice = Math.max(1, Math.floor(calls / rounds));
  const times: number[][] = ones.map(() => []);
  const busy = ones.map(() => ({ calls: 0, ms: 0 }));
  for (let r = 0; r < rounds; r++) {
    for (const [k, one] of ones.entries()) {
      for (let i = 0; i < slice; i++) {
        const t0 = performance.now();
        await one();
        times[k]!.push(performance.now() - t0);
      }
      let done = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (done < slice) {
            done++;
            await one();
          }
        }),
      );
      busy[k]!.ms += performance.now() - t0;
      busy[k]!.calls += slice;
    }
  }
  return times.map((t, k) => {
    t.sort((a, b) => a - b);
    return { p50: t[Math.floor(t.length * 0.5)]!, p99: t[Math.floor(t.length * 0.99)]!, perSecond: busy[k]!.calls / (busy[k]!.ms / 1000) };
  });
}

const dir = await mkdtemp(join(tmpdir(), "hpbench-"));
try {
  const registry = createRegistry();
  registry.registerContainerPlugin(envLimitsPlugin);
  registry.registerContainerPlugin(createPolicyPlugins({ denyPrivileged: true, allowedBindPrefixes: ["/srv"] }).container);
  const host = createHost({ registry });
  const bridge = await createDockerBridge({ host, name: "bench", authz: true, socket: join(dir, "bridge.sock") });
  const floor = await listenV1Plugin({ socket: join(dir, "floor.sock"), implements: ["authz"], handlers: { "AuthZPlugin.AuthZReq": () => ({ Allow: true }) } });
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const check = await post(agent, bridge.socketPath, "/AuthZPlugin.AuthZReq", authzBody);
  if (check !== '{"Allow":true}') throw new Error(`the bridge did not allow the benchmark request: ${check}`);

  const labels = [
    "bare v1 server, AuthZReq allowed at once (floor)",
    "bridge, AuthZReq for docker create (envlimits + policy)",
    "in-process host.container.preCreate (same plugins)",
    "in-process preCreate with { audit }",
  ];
  const figures = await measureAlternating([
    () => post(agent, floor.socketPath!, "/AuthZPlugin.AuthZReq", authzBody),
    () => post(agent, bridge.socketPath, "/AuthZPlugin.AuthZReq", authzBody),
    () => host.container.preCreate(structuredClone(createBody)),
    () => host.container.preCreate(structuredClone(createBody), { audit: [] as AuditEntry[] }),
  ]);
  const rows = labels.map((label, i): [string, Figures] => [label, figures[i]!]);
  const floorP50 = rows[0]![1].p50;
  console.log(`Docker bridge, ${calls} sequential calls (p50, p99) and ${concurrency} concurrent callers, in alternating slices; ${os.cpus()[0]?.model ?? "?"}, ${os.cpus().length} cores, Node ${process.version}\n`);
  console.log("| call | p50 | p99 | calls/s (32 concurrent) | p50 vs floor |");
  console.log("|---|---:|---:|---:|---:|");
  for (const [label, f] of rows) {
    console.log(`| ${label} | ${(f.p50 * 1000).toFixed(0)} µs | ${(f.p99 * 1000).toFixed(0)} µs | ${Math.round(f.perSecond)} | ${(f.p50 / floorP50).toFixed(2)}x |`);
  }
  agent.destroy();
  await bridge.close();
  await floor.close();
} finally {
  await rm(dir, { recursive: true, force: true });
}
