/**
 * The plugin both sides of bench/external.bench.ts run: in-process, and served from its own process.
 */
import type { ContainerPlugin } from "hookplugins";

/** preCreate sets one label, in place. */
export const benchPlugin: ContainerPlugin = {
  name: "bench",
  preCreate(_ctx, config) {
    config.Labels = { ...config.Labels, bench: "1" };
  },
};
