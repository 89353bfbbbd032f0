/**
 * A value computed at most once per `ttlMs` (concurrent callers share one computation): for answers
 * that read a whole table, so their cost is bounded by time and not by how often they are asked.
 */
export interface CachedValue<T> {
  value: T;
  /** When it was computed (ms since the epoch). */
  computedAt: number;
}

export class Cached<T> {
  readonly #ttlMs: number;
  readonly #compute: () => Promise<T>;
  readonly #now: () => number;
  #last: CachedValue<T> | undefined;
  #pending: Promise<CachedValue<T>> | undefined;

  constructor(ttlMs: number, compute: () => Promise<T>, now: () => number = Date.now) {
    this.#ttlMs = ttlMs;
    this.#compute = compute;
    this.#now = now;
  }

  /** The last value computed, however old; undefined before the first. Starts nothing. */
  latest(): CachedValue<T> | undefined {
    return this.#last;
  }

  /**
   * The last value at once, however old: an expired one answers while the next is computed, whose
   * failure goes to `onRefreshFailed` (the old value keeps answering). Only the first caller ever
   * waits; with a TTL of 0 every caller computes.
   */
  async current(onRefreshFailed: (error: unknown) => void): Promise<CachedValue<T>> {
    const last = this.#last;
    if (last === undefined || this.#ttlMs === 0) return this.get();
    if (this.#now() - last.computedAt >= this.#ttlMs && this.#pending === undefined) {
      this.get().catch(onRefreshFailed);
    }
    return last;
  }

  async get(): Promise<CachedValue<T>> {
    if (this.#last && this.#now() - this.#last.computedAt < this.#ttlMs) return this.#last;
    this.#pending ??= this.#refresh().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #refresh(): Promise<CachedValue<T>> {
    const computedAt = this.#now();
    const value = await this.#compute();
    this.#last = { value, computedAt };
    return this.#last;
  }
}
