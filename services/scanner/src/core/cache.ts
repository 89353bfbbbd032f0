/**
 * The scan cache decision (DESIGN.md, deduplication layer 3), keyed by content and scanner: an image
 * whose digest was scanned successfully within SCAN_CACHE_HOURS, by the running qscanner version
 * (unless RESCAN_ON_SCANNER_UPGRADE=false), is not scanned again unless the request is forced.
 * Failed scans never count; neither does a tag whose digest is unknown.
 */
import type { ScanRequested } from "@qcs/shared";
import type { CachedScan } from "./ports.ts";

export interface CacheRule {
  cacheMs: number;
  /** The running qscanner's version when a hit must have been scanned by it; undefined: any version. */
  scannerVersion: string | undefined;
}

export function isCacheHit(
  request: Pick<ScanRequested, "force">,
  digest: string | undefined,
  cached: CachedScan | undefined,
  now: Date,
  rule: CacheRule,
): cached is CachedScan {
  if (request.force || cached === undefined || rule.cacheMs <= 0) return false;
  if (digest === undefined || cached.digest !== digest) return false;
  if (rule.scannerVersion !== undefined && cached.scannerVersion !== rule.scannerVersion) return false;
  const age = now.getTime() - cached.finishedAt.getTime();
  // A record from the future (clock skew between replicas) is still fresh.
  return age < rule.cacheMs;
}
