/**
 * The in-memory dedup window: message IDs accepted by Service Bus recently, so repeats (an Event
 * Grid event and the Activity Log record of the same write, Accept and Success in different
 * batches) do not go to the broker again. Bounded: the oldest entries go first.
 */
export class RecentRequests {
  readonly #windowMs: number;
  readonly #maxEntries: number;
  /** messageId -> time accepted (ms); insertion order is age order. */
  readonly #acceptedAt = new Map<string, number>();

  constructor(windowMs: number, maxEntries = 100_000) {
    this.#windowMs = windowMs;
    this.#maxEntries = maxEntries;
  }

  has(messageId: string, nowMs: number): boolean {
    const at = this.#acceptedAt.get(messageId);
    if (at === undefined) return false;
    if (nowMs - at < this.#windowMs) return true;
    this.#acceptedAt.delete(messageId);
    return false;
  }

  add(messageId: string, nowMs: number): void {
    if (this.#windowMs <= 0) return;
    this.#acceptedAt.delete(messageId);
    this.#acceptedAt.set(messageId, nowMs);
    for (const [oldest, at] of this.#acceptedAt) {
      if (this.#acceptedAt.size <= this.#maxEntries && nowMs - at < this.#windowMs) break;
      this.#acceptedAt.delete(oldest);
    }
  }

  get size(): number {
    return this.#acceptedAt.size;
  }
}
