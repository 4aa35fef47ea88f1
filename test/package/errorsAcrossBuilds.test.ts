/**
 * The ESM and the CommonJS build loaded in one process (as a host that imports hookplugins and a dependency that
 * requires it does): they share the default registry, and `instanceof` on the error classes holds across them.
 * Runs against the real built dist (built once by `npm run build`, see test/cli/helpers.ts).
 */
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { builtPackage } from "../cli/helpers.js";

type Library = typeof import("hookplugins");

let esm: Library;
let cjs: Library;

beforeAll(async () => {
  const pkg = await builtPackage();
  esm = (await import(pathToFileURL(join(pkg, "dist", "index.js")).href)) as Library;
  cjs = createRequire(import.meta.url)(join(pkg, "dist", "index.cjs")) as Library;
}, 180_000);

/** One instance of each error class, made by `lib`. */
function errorsOf(lib: Library) {
  return {
    PluginRegistrationError: new lib.PluginRegistrationError("p", "ContainerPlugin", "bad"),
    PluginHookError: new lib.PluginHookError("p", "ContainerPlugin.preCreate", new Error("x")),
    PluginTimeoutError: new lib.PluginTimeoutError("p", "ContainerPlugin.preCreate", 5),
    PluginAbortedError: new lib.PluginAbortedError("p", "ContainerPlugin.preCreate", "stop"),
    PluginStateError: new lib.PluginStateError("/x/state.json", "is not JSON"),
  };
}

const classNames = ["PluginRegistrationError", "PluginHookError", "PluginTimeoutError", "PluginAbortedError", "PluginStateError"] as const;

describe("the ESM and the CommonJS build in one process", () => {
  it("are two copies of the library that share one default registry", () => {
    expect(esm.PluginHookError).not.toBe(cjs.PluginHookError);
    expect(esm.defaultRegistry).toBe(cjs.defaultRegistry);
  });

  for (const name of classNames) {
    it(`agree that a ${name} from either build is an instance of the other build's ${name}`, () => {
      expect(errorsOf(cjs)[name]).toBeInstanceOf(esm[name]);
      expect(errorsOf(esm)[name]).toBeInstanceOf(cjs[name]);
    });
  }

  it("keep subclasses apart: a PluginHookError from the other build is no PluginTimeoutError", () => {
    expect(errorsOf(cjs).PluginHookError).not.toBeInstanceOf(esm.PluginTimeoutError);
    expect(errorsOf(esm).PluginHookError).not.toBeInstanceOf(cjs.PluginAbortedError);
    expect(errorsOf(cjs).PluginTimeoutError).toBeInstanceOf(esm.PluginHookError);
    expect(errorsOf(cjs).PluginHookError).not.toBeInstanceOf(esm.PluginRegistrationError);
  });

  it("see a hook error thrown by a host of one build as an instance of the other build's class", async () => {
    const registry = cjs.createRegistry();
    registry.registerContainerPlugin({ name: "thrower", preCreate: () => { throw new Error("boom"); } });
    const host = cjs.createHost({ registry });
    const error: unknown = await host.container.preCreate({ Image: "busybox" }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(esm.PluginHookError);
    expect(error).toMatchObject({ plugin: "thrower", hook: "ContainerPlugin.preCreate" });
  });

  it("leave a user's own subclass checked the ordinary way", () => {
    class OwnError extends esm.PluginHookError {}
    expect(new OwnError("p", "ContainerPlugin.preCreate", 1)).toBeInstanceOf(OwnError);
    expect(errorsOf(esm).PluginHookError).not.toBeInstanceOf(OwnError);
    expect(errorsOf(cjs).PluginHookError).not.toBeInstanceOf(OwnError);
  });

  it("still answer false for values that are not errors", () => {
    for (const value of [null, undefined, 1, "PluginHookError", {}, new Error("plain")]) {
      expect(value instanceof esm.PluginHookError).toBe(false);
      expect(value instanceof cjs.PluginRegistrationError).toBe(false);
    }
  });
});
