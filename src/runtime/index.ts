/**
 * hookplugins/runtime: the OCI runtime wrapper's side of the engines, and the prestart hand-off that the Docker API
 * proxy leaves for it. It imports the library as "hookplugins", so the subpath holds only its own code and types.
 * (Installing a wrapper bundles plugins, which needs the build tools: that is the CLI's `hookplugins runtime install`.)
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
export { creatingCommands, globalFlagsWithValue, parseRuntimeArgs } from "./runtimeArgs.js";
export type { RuntimeGlobals, RuntimeInvocation } from "./runtimeArgs.js";
export { formatRuntimeLogLine, processLogSinks, reportToRuntimeLog } from "./runtimeLog.js";
export type { RuntimeLogSinks } from "./runtimeLog.js";
export { addPrestartHooks, SpecHooksError } from "./specHooks.js";
export type { AddedHooks } from "./specHooks.js";
export { containerFromSpec } from "./containerFromSpec.js";
export type { OciResources, OciSpec } from "./containerFromSpec.js";
export { BundleConfigError, readBundleConfig, writeBundleConfig } from "./bundleConfig.js";
export type { BundleConfig } from "./bundleConfig.js";
export { checkTrustedPath, checkTrustedPlace, trustedUids, UntrustedPathError } from "./trustedPaths.js";
export { PluginStepTimeoutError, pluginStepMain, runPluginStep, RuntimeArgsError } from "./pluginStep.js";
export type { StepProgress } from "./pluginStep.js";
export {
  defaultHandoffMaxAgeMs,
  defaultStepTimeoutMs,
  readWrapperHeader,
  stepHeaderPrefix,
  wrapperConfigVersion,
  WrapperConfigError,
  wrapperHeaderPrefix,
} from "./wrapperConfig.js";
export type { WrapperConfig } from "./wrapperConfig.js";
export { clearedNodeVariables, renderWrapperScript, shellQuote } from "./wrapperScript.js";
export { checkRuntimeWrapper } from "./checkWrapper.js";
export type { RuntimeWrapperReport } from "./checkWrapper.js";
