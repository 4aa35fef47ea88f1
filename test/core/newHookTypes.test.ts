/**
 * Type-level tests of postStart, onExit, resolveImage and CliPlugin: `npm test` runs tsc over this file, so every
 * `@ts-expect-error` line must really be a type error and every expectTypeOf must hold.
 */
import {
  createHost,
  createRegistry,
  registerCliPlugin,
  type CliCommandSpec,
  type CliInvocation,
  type CliPlugin,
  type ContainerExit,
  type ContainerJSON,
  type CustomHostTypes,
  type HookContext,
  type ImageResolution,
  type ObserverOutcome,
  type PluginsOf,
  type PluginType,
  type ResolvedImage,
  type Unregister,
} from "hookplugins";
import { describe, expect, expectTypeOf, it } from "vitest";

interface MyContainer {
  id: string;
  pid: number;
}

describe("types of the new hooks", () => {
  it("types postStart's and onExit's container by the host's types, and onExit's exit", () => {
    const registry = createRegistry<CustomHostTypes<{ container: MyContainer }>>();
    registry.registerContainerPlugin({
      name: "typed",
      postStart(ctx, container) {
        expectTypeOf(ctx).toEqualTypeOf<HookContext>();
        expectTypeOf(container).toEqualTypeOf<MyContainer>();
      },
      onExit(_ctx, container, exit) {
        expectTypeOf(container).toEqualTypeOf<MyContainer>();
        expectTypeOf(exit).toEqualTypeOf<ContainerExit>();
        expectTypeOf(exit.signal).toEqualTypeOf<NodeJS.Signals | undefined>();
      },
    });
    registry.registerContainerPlugin({
      name: "returns-nothing",
      // @ts-expect-error an observer returns nothing
      postStart: () => 42,
    });
    const host = createHost({ registry });
    expectTypeOf(host.container.postStart).parameter(0).toEqualTypeOf<MyContainer>();
    expectTypeOf(host.container.onExit).returns.toEqualTypeOf<Promise<ObserverOutcome>>();
    // @ts-expect-error onExit needs the exit
    void host.container.onExit({ id: "c", pid: 1 });
    expect(registry.list()).toHaveLength(2);
  });

  it("types the default container as ContainerJSON", () => {
    const host = createHost({ registry: createRegistry() });
    expectTypeOf(host.container.postStart).parameter(0).toEqualTypeOf<ContainerJSON>();
  });

  it("types resolveImage's answer as a ResolvedImage or undefined", () => {
    const registry = createRegistry();
    registry.registerImagePlugin({
      name: "dir",
      resolveImage(_ctx, ref) {
        expectTypeOf(ref).toEqualTypeOf<string>();
        return ref.startsWith("dir:") ? { ref, rootfs: "/r", config: { Cmd: ["/bin/sh"] } } : undefined;
      },
    });
    registry.registerImagePlugin({
      name: "wrong",
      // @ts-expect-error an image needs a rootfs
      resolveImage: (_ctx, ref) => ({ ref, config: {} }),
    });
    registry.registerImagePlugin({
      name: "wrong-config",
      // @ts-expect-error Env is a list of KEY=value strings
      resolveImage: (_ctx, ref) => ({ ref, rootfs: "/r", config: { Env: "A=1" } }),
    });
    const host = createHost({ registry });
    expectTypeOf(host.image.resolveImage).returns.toEqualTypeOf<Promise<ImageResolution | undefined>>();
    expectTypeOf<ImageResolution["image"]>().toEqualTypeOf<ResolvedImage>();
    expect(registry.list()).toHaveLength(3);
  });

  it("types CliPlugin end to end: command specs, invocations and registerCliPlugin", () => {
    expectTypeOf<PluginsOf<CustomHostTypes<{ container: MyContainer }>>["CliPlugin"]>().toEqualTypeOf<CliPlugin>();
    expectTypeOf<"CliPlugin">().toMatchTypeOf<PluginType>();
    const plugin: CliPlugin = {
      name: "acme",
      updateCommands(_ctx, commands) {
        expectTypeOf(commands).toEqualTypeOf<CliCommandSpec[]>();
        return [
          ...commands,
          {
            name: "acme",
            description: "d",
            options: [{ flags: "-f, --force", description: "force", defaultValue: false }],
            arguments: [{ name: "target", required: true }],
            action(invocation) {
              expectTypeOf(invocation).toEqualTypeOf<CliInvocation>();
              expectTypeOf(invocation.args).toEqualTypeOf<readonly string[]>();
              return 0;
            },
          },
        ];
      },
    };
    const unregister = registerCliPlugin(plugin);
    expectTypeOf(unregister).toEqualTypeOf<Unregister>();
    unregister();
    // @ts-expect-error a command needs an action
    const noAction: CliCommandSpec = { name: "x", description: "d" };
    void noAction;
    // @ts-expect-error an action resolves with an exit status or nothing
    const badAction: CliCommandSpec = { name: "x", description: "d", action: () => "ok" };
    void badAction;
    expectTypeOf<CliCommandSpec["locked"]>().toEqualTypeOf<boolean | undefined>();
    const given: CliCommandSpec = { name: "x", description: "d", action: () => 0, locked: true };
    // @ts-expect-error the host sets locked; a plugin cannot unlock a command it was given
    given.locked = false;
    // @ts-expect-error a CliPlugin has no preCreate
    expect(() => createRegistry().registerCliPlugin({ name: "wrong", preCreate: () => undefined })).toThrow(/register it with registerContainerPlugin/);
    const host = createHost({ registry: createRegistry() });
    expectTypeOf(host.cli.updateCommands).returns.toEqualTypeOf<Promise<CliCommandSpec[]>>();
  });
});
