/**
 * The mapping from stored rows to what the API returns (its schemas are in
 * `@qcs/shared`, `contracts/recorderApi.ts`).
 */
import {
  type CoverageItem,
  type CoverageView,
  type FailuresView,
  type HistoryScan,
  type ImageWorkload,
  type LatestScan,
  type ScanMetadataEntity,
  type ScanStatsView,
  vulnerabilityCountsOf,
} from "@qcs/shared";
import type { ImageCoverage } from "../core/coverage.ts";
import type { CoverageAnswer, ImageRun } from "../core/coverageReport.ts";
import type { RecentFailures } from "../core/recentFailures.ts";
import type { ScanHistoryEntity } from "../core/scanHistory.ts";
import { resourceIdsOf } from "../core/scanMetadata.ts";
import type { ScanStats } from "../core/scanQueries.ts";

/** Drops undefined members, so optional fields are absent rather than null in the JSON. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined)) as T;
}

export function latestView(row: ScanMetadataEntity): LatestScan {
  return compact({
    ref: row.Ref,
    registry: row.Registry,
    repository: row.Repository,
    tag: row.Tag,
    digest: row.Digest,
    status: row.Status,
    lastScanId: row.LastScanId,
    lastScanAt: row.LastScanAt.toISOString(),
    lastSeenAt: row.LastSeenAt.toISOString(),
    lastSuccessAt: row.LastSuccessAt?.toISOString(),
    scanCount: row.ScanCount,
    vulnerabilities: vulnerabilityCountsOf(row),
    error:
      row.ErrorClass === undefined
        ? undefined
        : compact({ class: row.ErrorClass, message: row.ErrorMessage }),
    scannerVersion: row.ScannerVersion,
    qualysImageId: row.QualysImageId,
    resourceIds: resourceIdsOf(row),
  });
}

export function historyView(row: ScanHistoryEntity): HistoryScan {
  let sources: Array<Record<string, unknown>> = [];
  try {
    const parsed: unknown = JSON.parse(row.Sources);
    if (Array.isArray(parsed)) sources = parsed.filter((item) => typeof item === "object" && item !== null);
  } catch {
    // A damaged column loses the sources of one row, not the row.
  }
  return compact({
    scanId: row.ScanId,
    requestId: row.RequestId,
    ref: row.Ref,
    registry: row.Registry,
    repository: row.Repository,
    tag: row.Tag,
    digest: row.Digest,
    status: row.Status,
    skipReason: row.SkipReason,
    attempt: row.Attempt,
    startedAt: new Date(row.StartedAt).toISOString(),
    finishedAt: new Date(row.FinishedAt).toISOString(),
    durationMs: row.DurationMs,
    scanner: { name: row.ScannerName, version: row.ScannerVersion, mode: row.ScannerMode },
    vulnerabilities: vulnerabilityCountsOf(row),
    qualys:
      row.QualysPod === undefined
        ? undefined
        : compact({ pod: row.QualysPod, imageId: row.QualysImageId, imageSha: row.QualysImageSha }),
    error:
      row.ErrorClass === undefined
        ? undefined
        : compact({ class: row.ErrorClass, message: row.ErrorMessage, exitCode: row.ExitCode }),
    sources,
    sourceCount: row.SourceCount,
  });
}

export function statsView(stats: ScanStats, computedAt: Date): ScanStatsView {
  return compact({
    ...stats,
    lastScanAt: stats.lastScanAt?.toISOString(),
    computedAt: computedAt.toISOString(),
  });
}

export function coverageItemView(image: ImageCoverage): CoverageItem {
  const latest = image.latest;
  return compact({
    ref: image.ref,
    state: image.state,
    lastScanAt: latest?.LastScanAt.toISOString(),
    lastStatus: latest?.Status,
    lastSuccessAt: latest?.LastSuccessAt?.toISOString(),
    vulnerabilities: latest && vulnerabilityCountsOf(latest),
    workloads: image.workloads,
    resources: image.resources,
    resourcesTruncated: image.resourcesTruncated,
  });
}

export function coverageView(
  answer: CoverageAnswer,
  sloHours: number,
  page: { items: ImageCoverage[]; matched: number; next?: string | undefined },
): CoverageView {
  return compact({
    sloHours,
    computedAt: answer.computedAt.toISOString(),
    lastSweepAt: answer.lastSweepAt?.toISOString() ?? null,
    totals: answer.coverage.totals,
    matched: page.matched,
    items: page.items.map(coverageItemView),
    next: page.next,
  });
}

export function imageWorkloadView(run: ImageRun): ImageWorkload {
  const { workload } = run;
  return {
    resourceId: workload.resourceId,
    subscriptionId: workload.subscriptionId,
    resourceGroup: workload.resourceGroup,
    name: workload.name,
    kind: workload.kind,
    containers: run.containers,
  };
}

export function failuresView(
  recent: RecentFailures,
  computedAt: Date,
  page: { items: ScanHistoryEntity[]; next?: string | undefined },
): FailuresView {
  return compact({
    since: recent.since.toISOString(),
    computedAt: computedAt.toISOString(),
    total: recent.failures.length,
    scanned: recent.scanned,
    truncated: recent.truncated,
    reasons: recent.reasons.map((reason) => compact({ ...reason, lastAt: reason.lastAt.toISOString() })),
    items: page.items.map(historyView),
    next: page.next,
  });
}
