/**
 * Coverage: the images that run now (the `Workloads` table) against their latest scan state and the
 * SLO. Pure: the caller reads both tables (at most once per cache period) and hands them in.
 */
import {
  type CoverageState,
  type CoverageTotals,
  parseImageRef,
  type ScanMetadataEntity,
  type Severity,
  vulnerabilityCountsOf,
} from "@qcs/shared";
import { countAtOrAbove } from "./notifications.ts";
import type { LatestStateOf } from "./scanQueries.ts";

/** Resource IDs listed per image; the count is always complete. */
export const MAX_COVERAGE_RESOURCES = 20;

/** One workload as coverage needs it. */
export interface CoverageWorkload {
  resourceId: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  kind: string;
  /** Its containers with the canonical references of their images (a reference may repeat). */
  images: Array<{ container: string; ref: string }>;
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
    for (const { ref } of workload.images) {
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
  /** Only images of this registry host (any casing). */
  registry?: string | undefined;
  /** Only images whose latest successful scan found something at or above this severity. */
  minSeverity?: Severity | undefined;
  limit: number;
  /** The last reference of the previous page. */
  after?: string | undefined;
}

/**
 * One page of images in reference order, so a page boundary survives a refresh of the cache;
 * `matched` counts the images matching the filters on every page.
 */
export function coveragePage(
  coverage: Coverage,
  request: CoveragePageRequest,
): { items: ImageCoverage[]; matched: number; after?: string } {
  const registry = request.registry?.toLowerCase();
  const matching = coverage.images.filter(
    (image) =>
      (request.state === undefined || image.state === request.state) &&
      (registry === undefined || registryOf(image.ref) === registry) &&
      (request.minSeverity === undefined || findingsAtOrAbove(image, request.minSeverity) > 0),
  );
  const after = request.after;
  const start = after === undefined ? 0 : matching.findIndex((image) => image.ref > after);
  const rest = start < 0 ? [] : matching.slice(start);
  const items = rest.slice(0, request.limit);
  const last = items.at(-1);
  const matched = matching.length;
  return rest.length > items.length && last !== undefined
    ? { items, matched, after: last.ref }
    : { items, matched };
}

/** Findings of the image's latest successful scan at or above `min`; 0 when it has none. */
export function findingsAtOrAbove(image: ImageCoverage, min: Severity): number {
  const counts = image.latest && vulnerabilityCountsOf(image.latest);
  return counts === undefined ? 0 : countAtOrAbove(counts, min);
}

/** A canonical reference always starts with its registry host. */
function registryOf(ref: string): string {
  return ref.slice(0, ref.indexOf("/"));
}
