/**
 * `hookplugins/cri` for TypeScript's `moduleResolution: node` (node10), which ignores package.json "exports":
 * it finds this file by path. Every other resolution mode reads "exports" and never sees it.
 */
export * from "./dist/cri.js";
