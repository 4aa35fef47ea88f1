/**
 * Composes the streams preUpdate plugins return into one stream whose errors name the failing plugin.
 */
import { PassThrough, type Readable } from "node:stream";
import { PluginHookError } from "../errors.js";
import type { HookName } from "../plugins/hookPoints.js";

/** Collects the chain of streams of one preUpdate call. */
export class StreamComposer {
  #streams: Readable[] = [];
  #out: PassThrough | undefined;
  #error: Error | undefined;

  /** Starts from the request body. */
  constructor(
    readonly body: Readable,
    readonly hook: HookName,
  ) {}

  /** Records that `plugin` turned the previous stream into `stream`. */
  add(plugin: string, stream: Readable): void {
    if (stream === this.#streams.at(-1) || stream === this.body) return;
    if (this.#streams.length === 0) this.body.on("error", (error: Error) => this.#fail(error));
    stream.on("error", (error: Error) => this.#fail(new PluginHookError(plugin, this.hook, error)));
    this.#streams.push(stream);
  }

  /** Makes the result stream error with `error` (a fail-open plugin failed after it had read bytes of the body). */
  poison(error: Error): void {
    this.#fail(error);
  }

  #fail(error: Error): void {
    this.#error ??= error;
    if (this.#out && !this.#out.destroyed) this.#out.destroy(error);
  }

  /** The stream the host reads: the body itself when no plugin replaced it. */
  result(): Readable {
    const last = this.#streams.at(-1);
    if (!last && !this.#error) return this.body;
    const out = new PassThrough();
    this.#out = out;
    out.on("close", () => {
      if (out.writableFinished) return;
      for (const stream of this.#streams) stream.destroy();
    });
    if (this.#error) out.destroy(this.#error);
    else last!.pipe(out);
    return out;
  }
}
