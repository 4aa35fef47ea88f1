/**
 * hookplugins/runtime: the OCI runtime wrapper's side of the engines, and the prestart hand-off that the Docker API
 * proxy leaves for it. It imports the library as "hookplugins", so the subpath holds only its own code and types.
 */
export {
  defaultHandoffDir,
  handoffPath,
  handoffVersion,
  HandoffError,
  readHandoff,
  removeHandoff,
  sweepHandoffs,
  takeHandoff,
  writeHandoff,
} from "./handoff.js";
export type { PrestartHandoff } from "./handoff.js";
export { runtimeWrapperMarker } from "./wrapperMarker.js";
