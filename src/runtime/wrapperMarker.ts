/**
 * How an OCI runtime wrapper written by `hookplugins runtime install` is recognised: this text sits in its first
 * lines. The Docker API proxy reads an engine's runtime to tell whether prestart hooks will run.
 */

/** The text near the top of every wrapper `hookplugins runtime install` writes. */
export const runtimeWrapperMarker = "hookplugins OCI runtime wrapper";
