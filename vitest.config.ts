/**
 * Vitest configuration: `hookplugins` resolves to the library source, as tsconfig's `paths` does.
 */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/** The test runner's settings. */
export const config = defineConfig({
  resolve: {
    alias: [
      { find: /^hookplugins$/, replacement: fileURLToPath(new URL("./src/index.ts", import.meta.url)) },
      { find: /^hookplugins\/external$/, replacement: fileURLToPath(new URL("./src/external/index.ts", import.meta.url)) },
    ],
  },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
  },
});

// vitest loads the config module's default export; the contract's named-exports rule yields to the tool here.
export default config;
