/**
 * Reading an image operation's progress stream as it passes to the client: Docker sends one JSON object per line
 * (`{"status": ...}`, `{"stream": "Loaded image: bb:latest\n"}`, `{"errorDetail": ..., "error": ...}`). The tap notes
 * whether the operation failed and which images it produced; it never holds the stream back.
 */

/** What an image operation's stream said. */
export class ProgressTap {
  /** The error the engine reported in the stream, if any. */
  error: string | undefined = undefined;
  /** Images named by `docker load` ("Loaded image: x", "Loaded image ID: sha256:..."). */
  readonly loaded: string[] = [];
  /** The last `status` line (an import's image id). */
  lastStatus: string | undefined = undefined;
  /**
   * The tags a pull fetched, in the engine's order: dockerd starts each with `{"status":"Pulling from <repo>","id":"<tag>"}`,
   * once for a single tag and once per tag for a pull of all tags (`docker pull -a`, no `tag` in the query).
   */
  readonly pulledTags: string[] = [];
  #partial = "";
  readonly #decoder = new TextDecoder();

  /** Takes the next bytes of the stream. */
  push(chunk: Uint8Array): void {
    const text = this.#partial + this.#decoder.decode(chunk, { stream: true });
    const lines = text.split("\n");
    this.#partial = lines.pop() ?? "";
    for (const line of lines) this.#line(line);
  }

  /** The stream ended. */
  end(): void {
    this.#line(this.#partial + this.#decoder.decode());
    this.#partial = "";
  }

  #line(line: string): void {
    const text = line.trim();
    if (!text.startsWith("{")) return;
    let message: { error?: unknown; errorDetail?: { message?: unknown }; stream?: unknown; status?: unknown; id?: unknown };
    try {
      message = JSON.parse(text) as typeof message;
    } catch {
      return;
    }
    if (message.error !== undefined || message.errorDetail !== undefined) {
      this.error = String(message.errorDetail?.message ?? message.error);
      return;
    }
    if (typeof message.stream === "string") {
      const loaded = /^Loaded image(?: ID)?: (\S+)/.exec(message.stream.trim());
      if (loaded) this.loaded.push(loaded[1]!);
    }
    if (typeof message.status === "string") {
      this.lastStatus = message.status;
      if (message.status.startsWith("Pulling from ") && typeof message.id === "string" && message.id !== "" && !this.pulledTags.includes(message.id)) this.pulledTags.push(message.id);
    }
  }
}
