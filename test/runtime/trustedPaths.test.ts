/**
 * Which files and folders the wrapper trusts: only root (or the user running it) may be able to write them or any
 * folder above them; sticky folders like /tmp are fine above an entry of root's.
 */
import { chmodSync, chownSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkTrustedPath, checkTrustedPlace, UntrustedPathError } from "hookplugins/runtime";
import { itWithTools } from "../support/tools.js";
import { removeTempDirs, tempDir } from "./helpers.js";

let dir: string;

beforeAll(async () => {
  dir = await tempDir();
});
afterAll(() => removeTempDirs());

function file(path: string, mode = 0o644): string {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, "x");
  chmodSync(path, mode);
  return path;
}

describe("checkTrustedPath", () => {
  it("accepts a file of root's in folders of root's, below the sticky /tmp", async () => {
    await expect(checkTrustedPath("the plugin step", file(join(dir, "ok", "step.mjs")))).resolves.toBeUndefined();
  });

  it("refuses a file others can write, naming it and the fix", async () => {
    const path = file(join(dir, "w", "step.mjs"), 0o666);
    await expect(checkTrustedPath("the plugin step", path)).rejects.toThrow(
      `refusing to run: ${path} (on the way to the plugin step) is writable by its group or by others (mode 0666), so users other than root could change what runs as root; fix: chmod go-w ${path}`,
    );
  });

  it("refuses a group-writable folder above the file", async () => {
    const folder = join(dir, "g");
    file(join(folder, "sub", "x"));
    chmodSync(folder, 0o775);
    const error = await checkTrustedPath("the wrapper script", join(folder, "sub", "x")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UntrustedPathError);
    expect((error as UntrustedPathError).path).toBe(folder);
  });

  it("refuses a world-writable folder without the sticky bit, but accepts one with it above an entry of root's", async () => {
    const folder = join(dir, "s");
    file(join(folder, "sub", "x"));
    chmodSync(folder, 0o777);
    await expect(checkTrustedPath("node", join(folder, "sub", "x"))).rejects.toThrow(/mode 0777/);
    chmodSync(folder, 0o1777);
    await expect(checkTrustedPath("node", join(folder, "sub", "x"))).resolves.toBeUndefined();
  });

  it("follows a symbolic link and checks where it leads", async () => {
    const target = file(join(dir, "t", "real"), 0o666);
    const link = join(dir, "ok", "link");
    symlinkSync(target, link);
    await expect(checkTrustedPath("the real runtime", link)).rejects.toThrow(`${target} (on the way to the real runtime) is writable`);
  });

  itWithTools("root")("refuses a file of another user, even when only its owner can write it", async () => {
    const path = file(join(dir, "o", "step.mjs"), 0o600);
    chownSync(path, 65534, 65534);
    await expect(checkTrustedPath("the plugin step", path)).rejects.toThrow(`${path} (on the way to the plugin step) belongs to uid 65534`);
  });
});

describe("checkTrustedPlace", () => {
  it("checks the nearest existing folder of a path that does not exist yet", async () => {
    const folder = join(dir, "p");
    mkdirSync(folder);
    chmodSync(folder, 0o777);
    await expect(checkTrustedPlace("the plugin state file", join(folder, "a", "state.json"))).rejects.toThrow(`${folder} (on the way to the plugin state file)`);
  });
});
