/**
 * prestart-late: a ContainerPlugin at priority -5 whose preStart adds an OCI prestart hook (../trace-hook.sh) that
 * appends "prestart-late" to the trace file when the runtime runs it.
 */
import { registerContainerPlugin, type ContainerPlugin } from "hookplugins";
import { createTracePlugin } from "../traceHook.js";

/** The prestart-late ContainerPlugin object (registered in the default registry when this module loads). */
export const prestartLatePlugin: ContainerPlugin = createTracePlugin({
  name: "prestart-late",
  priority: -5,
  description: "Adds an OCI prestart hook at priority -5 (after the network hook) that appends \"prestart-late\" to a trace file",
});

registerContainerPlugin(prestartLatePlugin);
