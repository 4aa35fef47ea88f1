import { describe, expect, it } from "vitest";
import { diffLeaves } from "hookplugins";

describe("diffLeaves", () => {
  it("reports nothing for equal values", () => {
    expect(diffLeaves({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 })).toEqual([]);
  });

  it("reports a changed nested field at its JSON pointer with both values", () => {
    expect(diffLeaves({ HostConfig: { Memory: 0 } }, { HostConfig: { Memory: 512 } })).toEqual([{ pointer: "/HostConfig/Memory", before: 0, after: 512 }]);
  });

  it("reports added and removed fields with undefined on the absent side", () => {
    expect(diffLeaves({ a: 1 }, { b: 2 })).toEqual([
      { pointer: "/a", before: 1, after: undefined },
      { pointer: "/b", before: undefined, after: 2 },
    ]);
  });

  it("reports the leaves of an added object, not the object", () => {
    expect(diffLeaves({ Image: "x" }, { Image: "x", HostConfig: { Memory: 1, CpuShares: 2 } })).toEqual([
      { pointer: "/HostConfig/Memory", before: undefined, after: 1 },
      { pointer: "/HostConfig/CpuShares", before: undefined, after: 2 },
    ]);
  });

  it("treats an array as one leaf", () => {
    expect(diffLeaves({ Env: ["A=1", "B=2"] }, { Env: ["B=2"] })).toEqual([{ pointer: "/Env", before: ["A=1", "B=2"], after: ["B=2"] }]);
  });

  it("escapes ~ and / in keys as RFC 6901 says", () => {
    expect(diffLeaves({ Labels: {} }, { Labels: { "a/b~c": "1" } })).toEqual([{ pointer: "/Labels/a~1b~0c", before: undefined, after: "1" }]);
  });

  it("reports a leaf that became an object (and back) at the leaf's pointer", () => {
    expect(diffLeaves({ a: null }, { a: { b: 1 } })).toEqual([{ pointer: "/a", before: null, after: { b: 1 } }]);
  });

  it("counts a key holding undefined as absent", () => {
    expect(diffLeaves({ a: 1, b: undefined }, { a: 1 })).toEqual([]);
  });
});
