/**
 * The greeter plugin: importing this module registers it.
 */
import { registerContainerPlugin } from "hookplugins";

registerContainerPlugin({
  name: "greeter",
  version: "1.0.0",
  priority: 10,
  preCreate(_ctx, config) {
    config.Env = [...(config.Env ?? []), "GREETING=hello"];
  },
});
