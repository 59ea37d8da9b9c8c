/**
 * Runs tasks one at a time, in call order; a failed task does not stop the next. An OAuth2 strategy
 * runs its `generate()` calls through one: a refresh token must never be spent twice.
 */
export class SerialQueue {
  /** Tail of the queue. */
  #tail: Promise<void> = Promise.resolve();

  async run<T>(task: () => Promise<T>): Promise<T> {
    const previous = this.#tail;
    let release!: () => void;
    this.#tail = new Promise<void>((resolve) => (release = resolve));
    await previous;
    try {
      return await task();
    } finally {
      release();
    }
  }
}
