/**
 * Coverage: the images that run now (the `Workloads` table) against their latest scan state and the
 * SLO. Pure: the caller reads both tables (at most once per cache period) and hands them in.
 */
import { type CoverageState, type CoverageTotals, parseImageRef, type ScanMetadataEntity } from "@qcs/shared";
import type { LatestStateOf } from "./scanQueries.ts";

/** Resource IDs listed per image; the count is always complete. */
export const MAX_COVERAGE_RESOURCES = 20;

/** One workload as coverage needs it. */
export interface CoverageWorkload {
  resourceId: string;
  subscriptionId: string;
  /** Canonical references of its containers' images (duplicates allowed). */
  refs: string[];
}

/** What runs, as last read from `Workloads`. */
export interface Inventory {
  workloads: CoverageWorkload[];
  /** When the last sweep finished (its marker row); undefined before the first. */
  lastSweepAt: Date | undefined;
}

export interface ImageCoverage {
  ref: string;
  state: CoverageState;
  latest: ScanMetadataEntity | undefined;
  workloads: number;
  /** Sorted, at most {@link MAX_COVERAGE_RESOURCES}. */
  resources: string[];
  resourcesTruncated: boolean;
}

export interface Coverage {
  totals: CoverageTotals;
  /** Sorted by reference. */
  images: ImageCoverage[];
}

export interface CoverageOptions {
  sloHours: number;
  now: Date;
  /** Only the workloads of this subscription (any casing). */
  subscription?: string | undefined;
}

/**
 * How one image stands: a success within the SLO is `current` whatever came after it; without one,
 * a failed latest outcome (a dead-lettered request records a failure first) is `failing`, an older
 * success `stale`; nothing recorded is `neverScanned`. A row holding only cached skips has no success
 * under this reference to vouch for it: `stale`.
 */
export function coverageStateOf(
  latest: ScanMetadataEntity | undefined,
  now: Date,
  sloHours: number,
): CoverageState {
  if (latest === undefined) return "neverScanned";
  const success = latest.LastSuccessAt;
  if (success !== undefined && now.getTime() - success.getTime() <= sloHours * 3_600_000) return "current";
  if (latest.Status === "failed") return "failing";
  return "stale";
}

export function computeCoverage(
  inventory: Inventory,
  latestOf: LatestStateOf,
  options: CoverageOptions,
): Coverage {
  const subscription = options.subscription?.toLowerCase();
  const workloads = inventory.workloads.filter(
    (workload) => subscription === undefined || workload.subscriptionId.toLowerCase() === subscription,
  );
  const runners = new Map<string, Set<string>>();
  for (const workload of workloads) {
    for (const ref of workload.refs) {
      const set = runners.get(ref) ?? new Set<string>();
      set.add(workload.resourceId);
      runners.set(ref, set);
    }
  }

  const totals: CoverageTotals = {
    workloads: workloads.length,
    images: runners.size,
    current: 0,
    stale: 0,
    failing: 0,
    neverScanned: 0,
  };
  const images: ImageCoverage[] = [];
  for (const [ref, resourceIds] of runners) {
    const latest = latestOf(parseImageRef(ref));
    const state = coverageStateOf(latest, options.now, options.sloHours);
    totals[state] += 1;
    const resources = [...resourceIds].sort();
    images.push({
      ref,
      state,
      latest,
      workloads: resources.length,
      resources: resources.slice(0, MAX_COVERAGE_RESOURCES),
      resourcesTruncated: resources.length > MAX_COVERAGE_RESOURCES,
    });
  }
  images.sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
  return { totals, images };
}

export interface CoveragePageRequest {
  state?: CoverageState | undefined;
  limit: number;
  /** The last reference of the previous page. */
  after?: string | undefined;
}

/** One page of images in reference order, so a page boundary survives a refresh of the cache. */
export function coveragePage(
  coverage: Coverage,
  request: CoveragePageRequest,
): { items: ImageCoverage[]; after?: string } {
  const matching = coverage.images.filter(
    (image) =>
      (request.state === undefined || image.state === request.state) &&
      (request.after === undefined || image.ref > request.after),
  );
  const items = matching.slice(0, request.limit);
  const last = items.at(-1);
  return matching.length > items.length && last !== undefined ? { items, after: last.ref } : { items };
}
