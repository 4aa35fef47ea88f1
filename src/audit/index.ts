/**
 * The audit of waterfall runs and the leaf diff it is built on.
 */
export { auditedSpec, type AuditEntry } from "./auditedSpec.js";
export { copyData, diffLeaves, escapePointerToken, sameData, type LeafChange } from "./leafDiff.js";
