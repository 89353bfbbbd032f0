/**
 * A warm cache in front of ARM. Entries are keyed by resource and correlation ID: every record of
 * one write (Accept and Success, the Event Grid event and the Activity Log record) shares the
 * correlation ID and so costs one lookup, while a later write of the same resource has a new
 * correlation ID and is always looked up afresh. Concurrent lookups of one key share one request.
 * Failures are not cached.
 */
import type { LookupResult, ResourceLookup } from "./lookup.ts";
import type { Target } from "./select.ts";

export interface LookupCacheOptions {
  ttlMs: number;
  /** Default: 10,000. */
  maxEntries?: number;
  /** Default: `Date.now`. */
  now?: () => number;
}

export interface CachedLookup extends ResourceLookup {
  readonly stats: { hits: number; misses: number };
}

export function cachedLookup(inner: ResourceLookup, options: LookupCacheOptions): CachedLookup {
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 10_000;
  const entries = new Map<string, { result: LookupResult; at: number }>();
  const inFlight = new Map<string, Promise<LookupResult>>();
  const stats = { hits: 0, misses: 0 };

  return {
    stats,
    async lookup(target: Target, signal: AbortSignal): Promise<LookupResult> {
      if (target.correlationId === undefined || options.ttlMs <= 0) return inner.lookup(target, signal);
      const key = `${target.resourceId.toLowerCase()}\n${target.correlationId}`;
      const cached = entries.get(key);
      if (cached !== undefined && now() - cached.at < options.ttlMs) {
        stats.hits += 1;
        return cached.result;
      }
      const pending = inFlight.get(key);
      if (pending !== undefined) {
        stats.hits += 1;
        return pending;
      }
      stats.misses += 1;
      const request = inner.lookup(target, signal).then((result) => {
        if (result.status === "found" || result.kind === "not-found") {
          entries.delete(key);
          entries.set(key, { result, at: now() });
          if (entries.size > maxEntries) {
            const oldest = entries.keys().next().value;
            if (oldest !== undefined) entries.delete(oldest);
          }
        }
        return result;
      });
      inFlight.set(key, request);
      try {
        return await request;
      } finally {
        inFlight.delete(key);
      }
    },
  };
}
