/**
 * The handlers a receiver has running and the stop signal they watch, so both of the recorder's
 * receivers (results, notifications) drain and close the same way.
 */
import { setTimeout as sleep } from "node:timers/promises";

export class InFlightWork {
  readonly #work = new Set<Promise<void>>();
  readonly #stopping = new AbortController();

  /** Aborted at the shutdown deadline: handlers give their messages back. */
  get stopping(): AbortSignal {
    return this.#stopping.signal;
  }

  get size(): number {
    return this.#work.size;
  }

  track(work: Promise<void>): Promise<void> {
    this.#work.add(work);
    return work.finally(() => this.#work.delete(work));
  }

  /** Waits for the handlers; once `deadline` aborts they are told to stop. */
  async drain(deadline: AbortSignal): Promise<void> {
    const stop = () => this.#stopping.abort();
    if (deadline.aborted) stop();
    else deadline.addEventListener("abort", stop, { once: true });
    await Promise.allSettled([...this.#work]);
    deadline.removeEventListener("abort", stop);
  }

  /** Tells the handlers to stop and waits for them to settle, at most `waitMs` when given. */
  async stop(waitMs?: number): Promise<void> {
    this.#stopping.abort();
    const settled = Promise.allSettled([...this.#work]);
    await (waitMs === undefined
      ? settled
      : Promise.race([settled, sleep(waitMs, undefined, { ref: false })]));
  }
}
