/**
 * Duplicate detection on `messageId` within an entity's window. Ids are remembered in arrival order,
 * so expired ones are dropped from the front as time passes.
 */
export class DuplicateDetector {
  readonly #windowMs: number;
  readonly #expiries = new Map<string, number>();
  /** Told of every id remembered, with the end of its window (the journal keeps them). */
  readonly #onRemember: ((messageId: string, expiry: number) => void) | undefined;

  constructor(windowMs: number, onRemember?: (messageId: string, expiry: number) => void) {
    this.#windowMs = windowMs;
    this.#onRemember = onRemember;
  }

  /** True when `messageId` was seen within the window; otherwise remembers it. */
  isDuplicate(messageId: string | undefined, now = Date.now()): boolean {
    if (messageId === undefined) return false;
    this.#forgetExpired(now);
    if (this.#expiries.has(messageId)) return true;
    this.#expiries.set(messageId, now + this.#windowMs);
    this.#onRemember?.(messageId, now + this.#windowMs);
    return false;
  }

  /** Takes back an id remembered before a restart (in window order). */
  restore(messageId: string, expiry: number): void {
    this.#expiries.set(messageId, expiry);
  }

  /** Ids still inside their window, oldest first, with their window's end. */
  remembered(now = Date.now()): IterableIterator<[string, number]> {
    this.#forgetExpired(now);
    return this.#expiries.entries();
  }

  #forgetExpired(now: number): void {
    for (const [id, expiry] of this.#expiries) {
      if (expiry > now) break;
      this.#expiries.delete(id);
    }
  }
}
