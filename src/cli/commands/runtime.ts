/**
 * `hookplugins runtime install` writes the OCI runtime wrapper that gives every engine (dockerd, containerd, Podman)
 * the project's preStart hooks; `hookplugins runtime check <wrapper>` says whether an installed one will work.
 */
import { relative } from "node:path";
import type { Command } from "commander";
import { checkRuntimeWrapper } from "../../runtime/checkWrapper.js";
import { defaultHandoffDir } from "../../runtime/handoff.js";
import { installRuntimeWrapper } from "../../runtime/install.js";
import { defaultStepTimeoutMs } from "../../runtime/wrapperConfig.js";
import type { CommandContext, ProjectNeed } from "../context.js";
import { UsageError } from "../output.js";
import { timeoutOption } from "../optionValues.js";

/** The options of `hookplugins runtime install`. */
export interface RuntimeInstallOptions {
  /** The real OCI runtime. */
  readonly runtime: string;
  /** The wrapper's path, or a folder. */
  readonly out: string;
  /** Where the proxy leaves hand-offs. */
  readonly handoffDir?: string;
  /** The plugin step's time limit in ms, as typed. */
  readonly timeout?: string;
  /** The node executable to record. */
  readonly node?: string;
}

/** A wrapper that `runtime check` found problems with; each problem says its fix. */
export class RuntimeCheckError extends Error {
  override name = "RuntimeCheckError";
}

/** `runtime install`: bundles the plugin step and writes the wrapper script. */
export async function runtimeInstallCommand(ctx: CommandContext, options: RuntimeInstallOptions): Promise<void> {
  const timeoutMs = timeoutOption(options.timeout);
  const installed = await installRuntimeWrapper({
    root: ctx.root,
    cwd: ctx.cwd,
    runtime: options.runtime,
    out: options.out,
    stateFile: await ctx.stateFile(),
    ...(options.handoffDir !== undefined && { handoffDir: options.handoffDir }),
    ...(timeoutMs !== undefined && { timeoutMs }),
    ...(options.node !== undefined && { node: options.node }),
  });
  const { config } = installed;
  for (const warning of installed.warnings) process.stderr.write(`hookplugins: warning: ${warning}\n`);
  if (ctx.out.json) return ctx.out.data({ ...config, stepBytes: installed.stepBytes, warnings: installed.warnings });
  const plugins = config.plugins.length === 0 ? "no plugins" : `${config.plugins.length} plugin${config.plugins.length === 1 ? "" : "s"} (${config.plugins.join(", ")})`;
  ctx.out.line(`Installed the runtime wrapper ${config.wrapper}: it calls ${config.runtime}, with ${plugins} of ${relative(ctx.cwd, config.project) || "."}.`);
  ctx.out.line(`Plugin step: ${config.step} (${Math.round(installed.stepBytes / 1024)} KB, run by ${config.node}, time limit ${config.timeoutMs} ms); hand-offs from ${config.handoffDir}.`);
  ctx.out.line("Use it:");
  ctx.out.line(`  dockerd:    "runtimes": {"hp": {"path": "${config.wrapper}"}} in daemon.json (and "default-runtime": "hp"), or docker run --runtime hp`);
  ctx.out.line(`  containerd: ctr run --runc-binary ${config.wrapper} ..., or BinaryName = "${config.wrapper}" in the runc runtime's options`);
  ctx.out.line(`  podman:     podman --runtime ${config.wrapper} ..., or in containers.conf: [engine] runtime = "hp", [engine.runtimes] hp = ["${config.wrapper}"]`);
}

/** `runtime check <wrapper>`: prints the record and the problems; fails when there are any. */
export async function runtimeCheckCommand(ctx: CommandContext, wrapper: string): Promise<void> {
  const report = await checkRuntimeWrapper(wrapper);
  const { config } = report;
  if (ctx.out.json) ctx.out.data(report);
  else {
    ctx.out.line(`Wrapper: ${config.wrapper}`);
    ctx.out.line(`Real runtime: ${config.runtime}${report.runtimeVersion ? ` (${report.runtimeVersion})` : ""}`);
    ctx.out.line(`Plugin step: ${config.step}, run by ${config.node}${report.nodeVersion ? ` (${report.nodeVersion})` : ""}, time limit ${config.timeoutMs} ms`);
    ctx.out.line(`Plugins: ${config.plugins.length ? config.plugins.join(", ") : "none"} (project ${config.project}, state file ${config.stateFile})`);
    ctx.out.line(`Hand-offs: ${config.handoffDir} (swept after ${config.handoffMaxAgeMs / 1000} s)`);
    ctx.out.line(report.problems.length === 0 ? "Ready." : `Problems: ${report.problems.length}`);
  }
  if (report.problems.length > 0) throw new RuntimeCheckError(report.problems.join("\n"));
}

/** Adds `runtime install` and `runtime check` to `program`; `run` is the program's action runner. */
export function addRuntimeCommand(
  program: Command,
  run: (command: Command, action: (ctx: CommandContext) => Promise<void>, need?: ProjectNeed) => Promise<void>,
): void {
  const runtime = program.command("runtime").description("an OCI runtime wrapper that gives dockerd, containerd and Podman the plugins' preStart hooks");
  runtime
    .command("install")
    .description("write the wrapper (a sh script) and its plugin step (one bundled file: the project's plugins and this library)")
    .requiredOption("--runtime <path>", "the real OCI runtime the wrapper calls, e.g. /usr/sbin/runc")
    .requiredOption("--out <path>", "the wrapper's path (the plugin step goes beside it, as <path>.mjs), or a folder for hookplugins-runtime")
    .option("--handoff-dir <dir>", `where the Docker API proxy leaves prestart hand-offs (default ${defaultHandoffDir})`)
    .option("--timeout <ms>", `time limit of the plugin step of one create (default ${defaultStepTimeoutMs})`)
    .option("--node <path>", "the node that runs the plugin step (default: the node running this command)")
    .action((options: RuntimeInstallOptions, command: Command) => run(command, (ctx) => runtimeInstallCommand(ctx, options)));
  runtime
    .command("check")
    .description("check an installed wrapper: its record, plugin step, real runtime and node, and that only root can change them")
    .argument("<wrapper>", "the wrapper's path")
    .action((wrapper: string, _options, command: Command) => run(command, (ctx) => runtimeCheckCommand(ctx, wrapper), "optional"));
}
