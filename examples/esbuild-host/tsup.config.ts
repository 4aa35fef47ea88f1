/**
 * The host's build: its own code plus the plugins listed in hookplugins.json, compiled in by the hookplugins esbuild plugin.
 */
import { defineConfig } from "tsup";
import { hookpluginsEsbuildPlugin } from "hookplugins/esbuild";

// tsup requires its config as the default export.
export default defineConfig({
  entry: { main: "src/main.ts" },
  format: "esm",
  platform: "node",
  target: "node20",
  clean: true,
  esbuildPlugins: [hookpluginsEsbuildPlugin()],
});
