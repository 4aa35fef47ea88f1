/** The module the hookplugins esbuild plugin generates from hookplugins.json at build time. */
declare module "hookplugins:plugins" {
  /** The plugin specifiers compiled into this build, in inclusion order. */
  export const includedPlugins: readonly string[];
}
