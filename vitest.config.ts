/**
 * Vitest configuration: `hookplugins` resolves to the library source, as tsconfig's `paths` does. A reporter lists
 * skipped tests with their reasons, and under `HOOKPLUGINS_REQUIRE_ALL_TOOLS=1` (CI) fails the run when one skipped.
 */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { SkipReporter } from "./test/support/skipReporter.js";

/** The test runner's settings. */
export const config = defineConfig({
  resolve: {
    alias: [
      { find: /^hookplugins$/, replacement: fileURLToPath(new URL("./src/index.ts", import.meta.url)) },
      { find: /^hookplugins\/external$/, replacement: fileURLToPath(new URL("./src/external/index.ts", import.meta.url)) },
      { find: /^hookplugins\/docker$/, replacement: fileURLToPath(new URL("./src/docker/index.ts", import.meta.url)) },
      { find: /^hookplugins\/runtime$/, replacement: fileURLToPath(new URL("./src/runtime/index.ts", import.meta.url)) },
      { find: /^hookplugins\/cri$/, replacement: fileURLToPath(new URL("./src/cri/index.ts", import.meta.url)) },
    ],
  },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
    reporters: ["default", new SkipReporter()],
  },
});

// vitest loads the config module's default export; the contract's named-exports rule yields to the tool here.
export default config;
