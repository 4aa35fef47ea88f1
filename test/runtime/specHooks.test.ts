/**
 * Adding the plugins' prestart hooks to a config.json text: the order around the spec's own hooks (priority 0), only
 * hooks.prestart changed, every other byte kept, and every shape of "hooks" an engine writes.
 */
import { describe, expect, it } from "vitest";
import type { PrestartHook } from "hookplugins";
import { addPrestartHooks, SpecHooksError } from "hookplugins/runtime";

const hook = (priority: number, name: string): PrestartHook => ({ priority, path: `/hooks/${name}` });
const oci = (name: string): string => JSON.stringify({ path: `/hooks/${name}`, args: [`/hooks/${name}`] });
const names = (text: string): string[] =>
  (JSON.parse(text) as { hooks: { prestart: { path: string }[] } }).hooks.prestart.map((h) => h.path.replace("/hooks/", ""));

const own = '{"path":"/proc/1/exe","args":["libnetwork-setkey","-exec-root=/run/docker","ID","ctl"]}';

describe("addPrestartHooks", () => {
  it("puts plugin hooks above 0 before the spec's hooks and those at or below 0 after them", () => {
    const text = `{"hooks":{"prestart":[${own},{"path":"/hooks/own2"}]}}`;
    const { text: out } = addPrestartHooks(text, [hook(-5, "late"), hook(10, "early"), hook(0, "zero")]);
    expect(names(out)).toEqual(["early", "/proc/1/exe", "own2", "zero", "late"]);
  });

  it("keeps plugin order at equal priority", () => {
    const { text } = addPrestartHooks("{}", [hook(5, "a"), hook(5, "b"), hook(5, "c")]);
    expect(names(text)).toEqual(["a", "b", "c"]);
  });

  it("copies the spec's own hooks byte for byte, spacing and key order included", () => {
    const spaced = '{ "args" : [ "x" ],  "path":"/own" }';
    const text = `{"hooks": {"prestart": [ ${spaced} ]}}`;
    expect(addPrestartHooks(text, [hook(1, "a")]).text).toBe(`{"hooks": {"prestart": [${oci("a")},${spaced}]}}`);
  });

  it("leaves every byte outside hooks.prestart as it was: other stages, numbers beyond 2^53, spacing", () => {
    const text = '{\n  "linux": {"resources": {"memory": {"limit": 18446744073709551615}}},\n  "hooks": {"poststop": [{"path": "/bin/true"}], "prestart": []},\n  "x": 1.50\n}\n';
    expect(addPrestartHooks(text, [hook(1, "a")]).text).toBe(text.replace('"prestart": []', `"prestart": [${oci("a")}]`));
  });

  it("adds a hooks object when the spec has none", () => {
    expect(addPrestartHooks('{"ociVersion": "1.0.2"\n}', [hook(1, "a")]).text).toBe(`{"ociVersion": "1.0.2","hooks":{"prestart":[${oci("a")}]}\n}`);
  });

  it("adds hooks to an empty spec object", () => {
    expect(addPrestartHooks("{ }", [hook(1, "a")]).text).toBe(`{ "hooks":{"prestart":[${oci("a")}]}}`);
  });

  it("adds prestart to a hooks object without it (dockerd writes {} for a container without a network namespace of its own)", () => {
    expect(addPrestartHooks('{"hooks":{}}', [hook(1, "a")]).text).toBe(`{"hooks":{"prestart":[${oci("a")}]}}`);
    expect(addPrestartHooks('{"hooks":{"poststop":[]}}', [hook(1, "a")]).text).toBe(`{"hooks":{"prestart":[${oci("a")}],"poststop":[]}}`);
  });

  it("replaces hooks or prestart that are null", () => {
    expect(addPrestartHooks('{"hooks":null}', [hook(1, "a")]).text).toBe(`{"hooks":{"prestart":[${oci("a")}]}}`);
    expect(addPrestartHooks('{"hooks":{"prestart":null}}', [hook(1, "a")]).text).toBe(`{"hooks":{"prestart":[${oci("a")}]}}`);
  });

  it("edits the last of duplicate keys, the one JSON.parse and engines read", () => {
    const text = '{"hooks":{"prestart":[{"path":"/first"}]},"hooks":{"prestart":[]}}';
    expect(addPrestartHooks(text, [hook(1, "a")]).text).toBe(`{"hooks":{"prestart":[{"path":"/first"}]},"hooks":{"prestart":[${oci("a")}]}}`);
  });

  it("does not add a hook the spec already holds (a bundle created again)", () => {
    const first = addPrestartHooks(`{"hooks":{"prestart":[${own}]}}`, [hook(10, "early"), hook(-5, "late")]);
    const second = addPrestartHooks(first.text, [hook(10, "early"), hook(-5, "late")]);
    expect(second.text).toBe(first.text);
    expect(second.added).toEqual([]);
  });

  it("returns the text unchanged when there is nothing to add", () => {
    const text = '{"hooks" : {"prestart": []} }';
    expect(addPrestartHooks(text, [])).toEqual({ text, added: [] });
  });

  it("writes the plugins' hooks as OCI hooks: args[0] is the program, then the plugin's args, env and timeout", () => {
    const { added } = addPrestartHooks("{}", [{ priority: 1, path: "/h", args: ["a", "b c"], env: ["K=v"], timeout: 5 }]);
    expect(added).toEqual([{ path: "/h", args: ["/h", "a", "b c"], env: ["K=v"], timeout: 5 }]);
  });

  it("refuses a text that is not a JSON object, and hooks that are not an object", () => {
    expect(() => addPrestartHooks("[1]", [hook(1, "a")])).toThrow(SpecHooksError);
    expect(() => addPrestartHooks("{", [hook(1, "a")])).toThrow(/is not valid JSON/);
    expect(() => addPrestartHooks('{"hooks":[]}', [hook(1, "a")])).toThrow(/"hooks" that is not an object/);
    expect(() => addPrestartHooks('{"hooks":{"prestart":{}}}', [hook(1, "a")])).toThrow(/"hooks.prestart" that is not an array/);
  });

  it("handles strings holding brackets, braces and escaped quotes anywhere in the spec", () => {
    const text = '{"process":{"args":["sh","-c","echo \\"}]{[\\\\\\""]},"hooks":{"prestart":[{"path":"/x","args":["]}\\"{"]}]}}';
    const out = addPrestartHooks(text, [hook(-1, "a")]).text;
    expect(out).toBe(text.replace('"]}\\"{"]}]', `"]}\\"{"]},${oci("a")}]`));
    expect(JSON.parse(out)).toBeTruthy();
  });
});
