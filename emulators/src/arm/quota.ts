/**
 * Resource Graph's per-user request quota (documented: 15 requests per 5-second window), so that a
 * client can be tested pacing itself on `x-ms-user-quota-remaining` before it is throttled. One
 * fixed window for all callers: locally there is one user.
 */

export interface QuotaOptions {
  requests: number;
  windowSeconds: number;
}

export interface QuotaDecision {
  allowed: boolean;
  /** Requests left in the window after this one. */
  remaining: number;
  /** Whole seconds until the window resets (at least 1 while it runs). */
  resetsAfterSeconds: number;
}

export class QuotaWindow {
  readonly #options: QuotaOptions;
  readonly #now: () => number;
  #start: number | undefined;
  #used = 0;

  constructor(options: QuotaOptions, now: () => number = Date.now) {
    this.#options = options;
    this.#now = now;
  }

  take(): QuotaDecision {
    const now = this.#now();
    const windowMs = this.#options.windowSeconds * 1000;
    if (this.#start === undefined || now - this.#start >= windowMs) {
      this.#start = now;
      this.#used = 0;
    }
    const allowed = this.#used < this.#options.requests;
    if (allowed) this.#used += 1;
    return {
      allowed,
      remaining: this.#options.requests - this.#used,
      resetsAfterSeconds: Math.max(1, Math.ceil((this.#start + windowMs - now) / 1000)),
    };
  }
}

/** `x-ms-user-quota-resets-after`'s format. */
export function hhmmss(seconds: number): string {
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(Math.floor(seconds / 3600))}:${two(Math.floor(seconds / 60) % 60)}:${two(seconds % 60)}`;
}
