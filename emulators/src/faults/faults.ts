/**
 * Fault injection for tests of the callers' resilience, shared by the HTTP emulators (ARM, Resource
 * Graph, the registry): answer matching requests with an error status, a Retry-After header, or
 * after a delay. Each emulator renders a taken rule in its own service's error shape.
 */

export interface FaultRule {
  /** Resource ID the rule applies to (case-insensitive): ARM's GET of that one resource. */
  resourceId?: string;
  /**
   * Request path the rule applies to (case-insensitive, no query string); a trailing `*` matches
   * every path that starts with what precedes it, e.g. `/v2/ghcr.io/contoso/app/*`.
   */
  path?: string;
  /** Status to answer with (429, 500, 503, ...); default: answer normally (use with `delayMs`). */
  status?: number;
  /** Seconds sent as `Retry-After` with the status. */
  retryAfterSeconds?: number;
  /** Hold the request this long before answering. `faults.clear()` releases held requests at once. */
  delayMs?: number;
  /** How many requests the rule affects; default: all until cleared. */
  times?: number;
}

/** What a rule is matched against. */
export interface FaultTarget {
  path: string;
  /** Set for requests addressing one resource (ARM's GET of it). */
  resourceId?: string;
}

export class Faults {
  #rules: { rule: FaultRule; remaining: number }[] = [];
  readonly #held = new Set<() => void>();

  add(rule: FaultRule): void {
    this.#rules.push({ rule, remaining: rule.times ?? Number.POSITIVE_INFINITY });
  }

  /** Rules with uses left, each with how many (`null`: until cleared). */
  list(): Array<FaultRule & { remaining: number | null }> {
    return this.#rules
      .filter(({ remaining }) => remaining > 0)
      .map(({ rule, remaining }) => ({ ...rule, remaining: Number.isFinite(remaining) ? remaining : null }));
  }

  /** Removes every rule and answers held requests now. */
  clear(): void {
    this.#rules = [];
    for (const release of this.#held) release();
    this.#held.clear();
  }

  /** The first rule for this request, consuming one of its uses. */
  take(target: FaultTarget): FaultRule | undefined {
    const entry = this.#rules.find(({ rule, remaining }) => remaining > 0 && matches(rule, target));
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

function matches(rule: FaultRule, target: FaultTarget): boolean {
  if (rule.resourceId !== undefined && rule.resourceId.toLowerCase() !== target.resourceId?.toLowerCase()) {
    return false;
  }
  if (rule.path === undefined) return true;
  const pattern = rule.path.toLowerCase();
  const path = target.path.toLowerCase();
  return pattern.endsWith("*") ? path.startsWith(pattern.slice(0, -1)) : path === pattern;
}
