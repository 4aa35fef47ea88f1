/**
 * ContainerOrder: one queue per container for the proxy's observer calls, so that they run in the order the
 * container lived them: a start's `postStart` before the `onExit` of that run. A start holds its container's queue
 * from before the engine is asked to start it (a process that exits at once can die before the start is answered)
 * until its postStart ran; exits that arrive meanwhile wait behind it. Queues of different containers run side by side.
 */

/** A start's place in its container's queue. */
export interface StartSlot {
  /** Ends the hold: runs `task` (the postStart) in the slot when given, then lets what waits behind go on. */
  release(task?: () => Promise<void>): void;
}

/** Per-container queues of observer calls. */
export class ContainerOrder {
  readonly #tails = new Map<string, Promise<void>>();
  readonly #pending = new Set<Promise<void>>();

  /** Runs `task` after everything queued for container `id`; the task's failure is the caller's to catch first. */
  run(id: string, task: () => Promise<void>): Promise<void> {
    return this.#append(id, (previous) => previous.then(task));
  }

  /** Holds container `id`'s queue for a start until the slot is released. */
  hold(id: string): StartSlot {
    let release!: (task?: () => Promise<void>) => void;
    const released = new Promise<(() => Promise<void>) | undefined>((resolve) => (release = resolve));
    void this.#append(id, async (previous) => {
      const task = await released;
      await previous;
      await task?.();
    });
    // a second release changes nothing: the promise is settled by the first
    return { release };
  }

  /** Resolves once every queued call has run (calls queued meanwhile included). */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  #append(id: string, step: (previous: Promise<void>) => Promise<void>): Promise<void> {
    const previous = this.#tails.get(id) ?? Promise.resolve();
    const entry = step(previous).catch(() => undefined);
    this.#tails.set(id, entry);
    this.#pending.add(entry);
    void entry.then(() => {
      this.#pending.delete(entry);
      if (this.#tails.get(id) === entry) this.#tails.delete(id);
    });
    return entry;
  }
}
