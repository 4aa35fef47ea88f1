/**
 * esbuild is an optional peer: the bundling code imports it on first use, and a missing esbuild becomes an error
 * that says how to install it (the packed-tarball test runs the real CLI without esbuild too).
 */
import { describe, expect, it } from "vitest";
import { EsbuildMissingError, loadEsbuild, type EsbuildModule } from "../../src/inclusion/loadEsbuild.js";

/** An importer that fails as Node's import() does when the package is not installed. */
function missing(): Promise<EsbuildModule> {
  return Promise.reject(Object.assign(new Error("Cannot find package 'esbuild' imported from /p/node_modules/hookplugins/dist/cli.js"), { code: "ERR_MODULE_NOT_FOUND" }));
}

describe("loadEsbuild", () => {
  it("gives the installed esbuild's build API", async () => {
    const esbuild = await loadEsbuild("cannot compile plugin");
    expect(typeof esbuild.build).toBe("function");
  });

  it("says what failed and to run `npm install -D esbuild` when esbuild is not installed", async () => {
    const error = await loadEsbuild('cannot compile plugin "./p"', missing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EsbuildMissingError);
    expect((error as Error).message).toMatch(/^cannot compile plugin "\.\/p": .*esbuild.*`npm install -D esbuild`/);
    expect((error as Error).cause).toMatchObject({ code: "ERR_MODULE_NOT_FOUND" });
  });

  it("passes on any other failure to load esbuild unchanged", async () => {
    const broken = Object.assign(new Error('The package "@esbuild/linux-x64" could not be found'), { code: "ERR_OTHER" });
    const error = await loadEsbuild("cannot compile plugin", () => Promise.reject(broken)).catch((e: unknown) => e);
    expect(error).toBe(broken);
  });

  it("does not take a missing module other than esbuild for a missing esbuild", async () => {
    const other = Object.assign(new Error("Cannot find package 'esbuild-wasm' imported from /p/x.js"), { code: "ERR_MODULE_NOT_FOUND" });
    const error = await loadEsbuild("cannot compile plugin", () => Promise.reject(other)).catch((e: unknown) => e);
    expect(error).toBe(other);
  });
});
