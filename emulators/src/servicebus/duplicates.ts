/**
 * Duplicate detection on `messageId` within an entity's window. Ids are remembered in arrival order,
 * so expired ones are dropped from the front as time passes.
 */
export class DuplicateDetector {
  readonly #windowMs: number;
  readonly #expiries = new Map<string, number>();

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  /** True when `messageId` was seen within the window; otherwise remembers it. */
  isDuplicate(messageId: string | undefined, now = Date.now()): boolean {
    if (messageId === undefined) return false;
    for (const [id, expiry] of this.#expiries) {
      if (expiry > now) break;
      this.#expiries.delete(id);
    }
    if (this.#expiries.has(messageId)) return true;
    this.#expiries.set(messageId, now + this.#windowMs);
    return false;
  }
}
