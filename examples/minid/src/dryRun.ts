/**
 * The dry-run runtime: used where runc is missing or minid is not root. It leaves the bundle written,
 * prints the runc command it would run and the prestart hooks runc would execute, and "runs" nothing.
 */
import { readFile } from "node:fs/promises";
import type { OciSpec } from "./ociSpec.js";
import { noOomWatch, type OomWatch } from "./oomWatch.js";
import type { ContainerIo, RunningContainer, RunRequest, Runtime } from "./runtime.js";

/** A runtime that only reports what it would do. */
export class DryRunRuntime implements Runtime {
  readonly name = "dry-run";
  readonly dryRun = true;
  readonly #runcRoot: string;
  readonly #log: (line: string) => void;

  /** Reports through `log`; `runcRoot` is the --root runc would use. */
  constructor(runcRoot: string, log: (line: string) => void) {
    this.#runcRoot = runcRoot;
    this.#log = log;
  }

  run(request: RunRequest, io: ContainerIo): RunningContainer {
    const started = (async () => {
      const spec = JSON.parse(await readFile(`${request.bundle}/config.json`, "utf8")) as OciSpec;
      this.#log(`dry-run: would run: runc --root ${this.#runcRoot} run --bundle ${request.bundle} ${request.id}`);
      for (const hook of spec.hooks?.prestart ?? []) {
        this.#log(`dry-run:   prestart hook: ${[hook.path, ...(hook.args ?? []).slice(1)].join(" ")}`);
      }
      this.#log(`dry-run:   process: ${spec.process.args.join(" ")}`);
      io.stderr(Buffer.from(`minid dry-run: the container was not run (would run: ${spec.process.args.join(" ")})\n`));
    })();
    const exited = started.then(() => 0);
    started.catch(() => undefined);
    exited.catch(() => undefined);
    return { started, exited, pid: () => 0 };
  }

  async kill(): Promise<void> {}

  async update(): Promise<void> {}

  watchOom(): OomWatch {
    return noOomWatch;
  }

  async delete(): Promise<void> {}
}
