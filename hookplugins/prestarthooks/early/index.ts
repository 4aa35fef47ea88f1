/**
 * prestart-early: a ContainerPlugin at priority 10 whose preStart adds an OCI prestart hook (../trace-hook.sh) that
 * appends "prestart-early" to the trace file when the runtime runs it.
 */
import { registerContainerPlugin, type ContainerPlugin } from "hookplugins";
import { createTracePlugin } from "../traceHook.js";

/** The prestart-early ContainerPlugin object (registered in the default registry when this module loads). */
export const prestartEarlyPlugin: ContainerPlugin = createTracePlugin({
  name: "prestart-early",
  priority: 10,
  description: "Adds an OCI prestart hook at priority 10 (before the network hook) that appends \"prestart-early\" to a trace file",
});

registerContainerPlugin(prestartEarlyPlugin);
