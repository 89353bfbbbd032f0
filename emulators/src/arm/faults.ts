/**
 * Fault injection for tests of the callers' resilience: answer requests for a resource (or all
 * requests) with an error status, a Retry-After header, or after a delay.
 */

export interface FaultRule {
  /** Resource ID the rule applies to (case-insensitive); default: every request. */
  resourceId?: string;
  /** Status to answer with (429, 500, 503, ...); default: answer normally (use with `delayMs`). */
  status?: number;
  /** Seconds sent as `Retry-After` with the status. */
  retryAfterSeconds?: number;
  /** Hold the request this long before answering. `faults.clear()` releases held requests at once. */
  delayMs?: number;
  /** How many requests the rule affects; default: all until cleared. */
  times?: number;
}

const CODES: Readonly<Record<number, string>> = {
  429: "TooManyRequests",
  500: "InternalServerError",
  502: "BadGateway",
  503: "ServiceUnavailable",
  504: "GatewayTimeout",
};

export function faultBody(status: number): { error: { code: string; message: string } } {
  return { error: { code: CODES[status] ?? `Http${status}`, message: `Injected fault: HTTP ${status}.` } };
}

export class Faults {
  #rules: { rule: FaultRule; remaining: number }[] = [];
  readonly #held = new Set<() => void>();

  add(rule: FaultRule): void {
    this.#rules.push({ rule, remaining: rule.times ?? Number.POSITIVE_INFINITY });
  }

  /** Removes every rule and answers held requests now. */
  clear(): void {
    this.#rules = [];
    for (const release of this.#held) release();
    this.#held.clear();
  }

  /** The rule for this request, consuming one of its uses. */
  take(resourceId: string | undefined): FaultRule | undefined {
    const entry = this.#rules.find(
      ({ rule, remaining }) =>
        remaining > 0 &&
        (rule.resourceId === undefined || rule.resourceId.toLowerCase() === resourceId?.toLowerCase()),
    );
    if (!entry) return undefined;
    entry.remaining -= 1;
    return entry.rule;
  }

  /** Waits `ms`, or until {@link clear}. */
  hold(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const release = () => {
        clearTimeout(timer);
        this.#held.delete(release);
        resolve();
      };
      const timer = setTimeout(release, ms);
      this.#held.add(release);
    });
  }
}
