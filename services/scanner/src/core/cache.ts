/**
 * The scan cache decision (DESIGN.md, deduplication layer 3): an image scanned successfully within
 * SCAN_CACHE_HOURS is not scanned again unless the request is forced. Failed scans never count.
 */
import type { ScanRequested } from "@qcs/shared";
import type { CachedScan } from "./ports.ts";

export function isCacheHit(
  request: Pick<ScanRequested, "force">,
  cached: CachedScan | undefined,
  now: Date,
  cacheMs: number,
): cached is CachedScan {
  if (request.force || cached === undefined || cacheMs <= 0) return false;
  const age = now.getTime() - cached.finishedAt.getTime();
  // A record from the future (clock skew between replicas) is still fresh.
  return age < cacheMs;
}
