import { CliCommandConflictError, CliCommandLockedError, PluginHookError, type CliCommandSpec, type CliInvocation } from "hookplugins";
import { describe, expect, it } from "vitest";
import { rejectionOf, setup } from "./helpers.js";

const builtins = (): CliCommandSpec[] => [
  { name: "list", description: "list plugins", action: () => 0 },
  { name: "explain", description: "show the order", options: [{ flags: "--json", description: "JSON" }], action: () => 0 },
];

const invocation = (lines: string[]): CliInvocation => ({ args: [], options: {}, out: (line) => void lines.push(line) });

describe("CLI commands from plugins (CliPlugin.updateCommands)", () => {
  it("adds a plugin's command after the built-ins and marks it with the plugin's name", async () => {
    const { registry, host } = setup();
    registry.registerCliPlugin({
      name: "acme",
      updateCommands: (_ctx, commands) => [...commands, { name: "acme-status", description: "show acme", action: () => 0 }],
    });
    const result = await host.cli.updateCommands(builtins());
    expect(result.map((c) => [c.name, c.plugin])).toEqual([["list", undefined], ["explain", undefined], ["acme-status", "acme"]]);
  });

  it("marks a command a plugin pushed into the list in place", async () => {
    const { registry, host } = setup();
    registry.registerCliPlugin({ name: "pusher", updateCommands: (_ctx, commands) => void commands.push({ name: "push", description: "d", action: () => 0 }) });
    expect((await host.cli.updateCommands(builtins())).find((c) => c.name === "push")?.plugin).toBe("pusher");
  });

  it("wraps a built-in: the same name with a new action that calls the old one keeps the built-in's place and owner", async () => {
    const { registry, host } = setup();
    registry.registerCliPlugin({
      name: "audit",
      updateCommands: (_ctx, commands) =>
        commands.map((c) => (c.name !== "list" ? c : { ...c, action: async (inv: CliInvocation) => (inv.out("audited"), c.action(inv)) })),
    });
    const result = await host.cli.updateCommands(builtins());
    expect(result.map((c) => c.name)).toEqual(["list", "explain"]);
    expect(result[0]?.plugin).toBeUndefined();
    const lines: string[] = [];
    expect(await result[0]!.action(invocation(lines))).toBe(0);
    expect(lines).toEqual(["audited"]);
  });

  it("hides a command with hidden: true, and removes one left out of the list", async () => {
    const { registry, host } = setup();
    registry.registerCliPlugin({
      name: "trim",
      updateCommands: (_ctx, commands) => commands.filter((c) => c.name !== "list").map((c) => ({ ...c, hidden: true })),
    });
    expect(await host.cli.updateCommands(builtins())).toMatchObject([{ name: "explain", hidden: true }]);
  });

  it("refuses a command named like a built-in, naming both sides", async () => {
    const { registry, host } = setup();
    registry.registerCliPlugin({ name: "clash", updateCommands: (_ctx, commands) => [...commands, { name: "list", description: "mine", action: () => 0 }] });
    const error = await rejectionOf(host.cli.updateCommands(builtins()));
    expect(error).toBeInstanceOf(CliCommandConflictError);
    expect(error).toBeInstanceOf(PluginHookError);
    expect(error).toMatchObject({ plugin: "clash", hook: "CliPlugin.updateCommands", command: "list", other: undefined });
    expect((error as Error).message).toMatch(/plugin "clash" adds command "list", which the built-in command "list" already is/);
  });

  it("refuses a command named like another plugin's command, naming that plugin", async () => {
    const { registry, host } = setup();
    registry.registerCliPlugin({ name: "first", priority: 1, updateCommands: (_ctx, c) => [...c, { name: "sync", description: "a", action: () => 0 }] });
    registry.registerCliPlugin({ name: "second", updateCommands: (_ctx, c) => [...c, { name: "sync", description: "b", action: () => 0 }] });
    const error = await rejectionOf(host.cli.updateCommands(builtins()));
    expect(error).toMatchObject({ plugin: "second", command: "sync", other: "first" });
    expect((error as Error).message).toMatch(/plugin "first"'s command "sync"/);
  });

  it("refuses an option flag a command already has, naming the flag", async () => {
    const { registry, host } = setup();
    registry.registerCliPlugin({
      name: "flags",
      updateCommands: (_ctx, commands) =>
        commands.map((c) => (c.name === "explain" ? { ...c, options: [...(c.options ?? []), { flags: "--json", description: "again" }] } : c)),
    });
    const error = await rejectionOf(host.cli.updateCommands(builtins()));
    expect(error).toMatchObject({ plugin: "flags", command: "explain", flag: "--json", other: undefined });
    expect((error as Error).message).toMatch(/adds option --json to command "explain", which the built-in command "explain" already has/);
  });

  it("refuses a command spec without an action, naming the plugin and the shape", async () => {
    const { registry, host } = setup();
    registry.registerCliPlugin({ name: "sloppy", updateCommands: (_ctx, c) => [...c, { name: "x", description: "d" } as never] });
    const error = await rejectionOf(host.cli.updateCommands(builtins()));
    expect((error as Error).message).toMatch(/plugin "sloppy" failed in CliPlugin.updateCommands: command spec #2 has no action function; a command is \{ name/);
  });

  it("keeps the list from before a fail-open plugin that fails", async () => {
    const { registry, host } = setup();
    registry.registerCliPlugin({
      name: "half",
      failPolicy: "fail-open",
      updateCommands: (_ctx, commands) => {
        commands.push({ name: "half-done", description: "d", action: () => 0 });
        throw new Error("gave up");
      },
    });
    expect((await host.cli.updateCommands(builtins())).map((c) => c.name)).toEqual(["list", "explain"]);
  });

  describe("locked built-ins (locked: true: the host runs them itself)", () => {
    const locked = (): CliCommandSpec[] => builtins().map((c) => ({ ...c, locked: true }));
    const changes: [string, (c: CliCommandSpec) => CliCommandSpec | undefined][] = [
      ["removed", () => undefined],
      ["wrapped", (c) => ({ ...c, action: (inv: CliInvocation) => c.action(inv) })],
      ["hidden", (c) => ({ ...c, hidden: true })],
      ["changed", (c) => ({ ...c, options: [...(c.options ?? []), { flags: "--verbose", description: "more" }] })],
    ];

    it.each(changes)("refuses a plugin whose result has a locked built-in %s, naming the plugin and the command", async (change, edit) => {
      const { registry, host } = setup();
      registry.registerCliPlugin({ name: "meddler", updateCommands: (_ctx, commands) => commands.flatMap((c) => (c.name === "explain" ? (edit(c) ?? []) : [c])) });
      const error = await rejectionOf(host.cli.updateCommands(locked()));
      expect(error).toBeInstanceOf(CliCommandLockedError);
      expect(error).toBeInstanceOf(PluginHookError);
      expect(error).toMatchObject({ plugin: "meddler", hook: "CliPlugin.updateCommands", command: "explain", change });
      expect((error as Error).message).toMatch(/^plugin "meddler" \w+ .*the built-in command "explain", in CliPlugin.updateCommands, but the host runs that command itself and locked it; return it as it was given and add a command under a new name instead$/);
    });

    it("refuses a locked built-in's options changed in place, from the state before the plugin ran", async () => {
      const { registry, host } = setup();
      registry.registerCliPlugin({ name: "inplace", updateCommands: (_ctx, commands) => void commands[1]!.options!.push({ flags: "--all", description: "d" }) });
      expect(await rejectionOf(host.cli.updateCommands(locked()))).toMatchObject({ plugin: "inplace", command: "explain", change: "changed" });
    });

    it("accepts a locked built-in returned as a copy with its own action, and keeps it locked when the plugin drops the flag", async () => {
      const { registry, host } = setup();
      registry.registerCliPlugin({
        name: "copier",
        updateCommands: (_ctx, commands) => [...commands.map(({ locked: _locked, ...c }) => c), { name: "extra", description: "d", action: () => 0 }],
      });
      const result = await host.cli.updateCommands(locked());
      expect(result.map((c) => [c.name, c.locked, c.plugin])).toEqual([["list", true, undefined], ["explain", true, undefined], ["extra", undefined, "copier"]]);
    });

    it("names a rename as the only fix for a command named like a locked built-in", async () => {
      const { registry, host } = setup();
      registry.registerCliPlugin({ name: "clash", updateCommands: (_ctx, commands) => [...commands, { name: "list", description: "mine", action: () => 0 }] });
      const error = await rejectionOf(host.cli.updateCommands(locked()));
      expect(error).toBeInstanceOf(CliCommandConflictError);
      expect((error as Error).message).toMatch(/; rename the plugin's command \(the host locked "list": plugins cannot wrap or change it\)$/);
    });
  });
});
