/**
 * The runtime address the relay forwards to (src/cri/upstream.ts): a UNIX socket, as `unix:///path` or an absolute
 * path; anything else is refused with a message that gives the form to use. Parsing only: nothing connects.
 */
import { CriProxyError, createCriProxy, CriUpstreamAddressError, parseCriUpstream } from "hookplugins/cri";
import { createHost, createRegistry } from "hookplugins";
import { describe, expect, it } from "vitest";
import { CriUpstream } from "../../src/cri/upstream.js";

const fix = "give unix:///run/containerd/containerd.sock or an absolute path";

describe("parseCriUpstream", () => {
  it("takes unix:///abs as the socket path /abs", () => {
    expect(parseCriUpstream("unix:///run/containerd/containerd.sock")).toBe("/run/containerd/containerd.sock");
  });

  it("takes a bare absolute path as it is", () => {
    expect(parseCriUpstream("/run/containerd/containerd.sock")).toBe("/run/containerd/containerd.sock");
  });

  it("keeps the path's spaces and dots as they are (no URL decoding)", () => {
    expect(parseCriUpstream("unix:///tmp/my dir/../c.sock")).toBe("/tmp/my dir/../c.sock");
  });

  it.each([
    ["tcp://", "tcp://127.0.0.1:10010"],
    ["http://", "http://localhost/run/containerd.sock"],
    ["npipe://", "npipe:////./pipe/containerd-containerd"],
    ["a relative path", "run/containerd/containerd.sock"],
    ["a ./ relative path", "./containerd.sock"],
    ["unix:// with a relative path", "unix://run/containerd/containerd.sock"],
    ["unix: with one slash", "unix:/run/containerd/containerd.sock"],
    ["an empty string", ""],
    ["unix:// alone", "unix://"],
  ])("refuses %s with a CriUpstreamAddressError that names the address and the fix", (_what, address) => {
    let error: unknown;
    try {
      parseCriUpstream(address);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CriUpstreamAddressError);
    expect((error as Error).name).toBe("CriUpstreamAddressError");
    expect((error as Error).message).toBe(`the runtime address ${JSON.stringify(address)} is not a UNIX socket; ${fix}`);
  });
});

describe("CriUpstream", () => {
  it("spells its address unix:///path whichever form it was given", () => {
    expect(new CriUpstream("/run/c.sock").address).toBe("unix:///run/c.sock");
    expect(new CriUpstream("unix:///run/c.sock").path).toBe("/run/c.sock");
  });

  it("refuses a tcp:// address on construction, before any connection", () => {
    expect(() => new CriUpstream("tcp://127.0.0.1:10010")).toThrow(CriUpstreamAddressError);
  });
});

describe("createCriProxy's upstream option", () => {
  it("is refused as a CriProxyError with parseCriUpstream's message (and cause) before anything listens or runs", async () => {
    const host = createHost({ registry: createRegistry() });
    try {
      const error = (await createCriProxy({ host, listen: "/nonexistent-dir/relay.sock", upstream: "tcp://127.0.0.1:10010" }).catch((e: unknown) => e)) as CriProxyError;
      expect(error).toBeInstanceOf(CriProxyError);
      expect(error.message).toBe(`the runtime address "tcp://127.0.0.1:10010" is not a UNIX socket; ${fix}`);
      expect(error.cause).toBeInstanceOf(CriUpstreamAddressError);
    } finally {
      await host.close();
    }
  });
});
