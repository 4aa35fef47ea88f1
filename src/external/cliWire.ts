/**
 * CLI commands on the wire: CliCommandSpec without its action as WireCommand and back, and running an external
 * plugin's command through `CliPlugin.RunCommand`.
 */
import type { CliCommandSpec, CliInvocation } from "hookplugins";
import type { RunCommandReply, RunCommandRequest, WireCommand } from "./protocol.js";

/** A command as the wire carries it. */
export function toWireCommand(spec: CliCommandSpec): WireCommand {
  return {
    Name: spec.name,
    Description: spec.description,
    ...(spec.arguments !== undefined && {
      Arguments: spec.arguments.map((a) => ({ Name: a.name, ...(a.description !== undefined && { Description: a.description }), ...(a.required !== undefined && { Required: a.required }), ...(a.variadic !== undefined && { Variadic: a.variadic }) })),
    }),
    ...(spec.options !== undefined && {
      Options: spec.options.map((o) => ({ Flags: o.flags, Description: o.description, ...(o.defaultValue !== undefined && { DefaultValue: o.defaultValue }) })),
    }),
    ...(spec.hidden !== undefined && { Hidden: spec.hidden }),
    ...(spec.plugin !== undefined && { Plugin: spec.plugin }),
    ...(spec.locked === true && { Locked: true }),
  };
}

/** Checks a WireCommand's shape; `where` names it in the message. Throws a TypeError. */
export function checkWireCommand(value: unknown, where: string): WireCommand {
  const c = value as Partial<WireCommand> | null;
  const ok =
    typeof c === "object" &&
    c !== null &&
    typeof c.Name === "string" &&
    typeof c.Description === "string" &&
    (c.Arguments === undefined || (Array.isArray(c.Arguments) && c.Arguments.every((a) => typeof a?.Name === "string"))) &&
    (c.Options === undefined || (Array.isArray(c.Options) && c.Options.every((o) => typeof o?.Flags === "string" && typeof o.Description === "string"))) &&
    (c.Hidden === undefined || typeof c.Hidden === "boolean") &&
    (c.Plugin === undefined || typeof c.Plugin === "string") &&
    (c.Locked === undefined || typeof c.Locked === "boolean");
  if (!ok) throw new TypeError(`${where} must be { Name, Description, Arguments?: [{ Name }], Options?: [{ Flags, Description }], Hidden?, Plugin?, Locked? }, got ${JSON.stringify(value)}`);
  return c as WireCommand;
}

/** A wire command as a spec with `action` (and `plugin` as the wire says). */
export function fromWireCommand(wire: WireCommand, action: CliCommandSpec["action"]): CliCommandSpec {
  return {
    name: wire.Name,
    description: wire.Description,
    ...(wire.Arguments !== undefined && {
      arguments: wire.Arguments.map((a) => ({ name: a.Name, ...(a.Description !== undefined && { description: a.Description }), ...(a.Required !== undefined && { required: a.Required }), ...(a.Variadic !== undefined && { variadic: a.Variadic }) })),
    }),
    ...(wire.Options !== undefined && {
      options: wire.Options.map((o) => ({ flags: o.Flags, description: o.Description, ...(o.DefaultValue !== undefined && { defaultValue: o.DefaultValue }) })),
    }),
    ...(wire.Hidden !== undefined && { hidden: wire.Hidden }),
    ...(wire.Plugin !== undefined && { plugin: wire.Plugin }),
    ...(wire.Locked === true && { locked: true }),
    action,
  };
}

/** The RunCommand request of one invocation of command `name`. */
export function runCommandRequest(name: string, invocation: CliInvocation): RunCommandRequest {
  const options: Record<string, string | boolean | readonly string[]> = {};
  for (const [key, value] of Object.entries(invocation.options)) if (value !== undefined) options[key] = value;
  return { Name: name, Args: [...invocation.args], Options: options };
}

/** Prints a RunCommand reply's output on `out` and returns its exit status. */
export function deliverRunCommand(reply: RunCommandReply, invocation: CliInvocation): number {
  const output = typeof reply.Output === "string" ? reply.Output : "";
  const lines = output.endsWith("\n") ? output.slice(0, -1).split("\n") : output === "" ? [] : output.split("\n");
  for (const line of lines) invocation.out(line);
  return typeof reply.ExitCode === "number" ? reply.ExitCode : 0;
}
