/**
 * What people are told about one result, decided from the reference's row as it was before this
 * result was applied (the previous recorded state): `io.qcs.findings.new` when a success has
 * findings at or above the threshold and is the reference's first such success or has more of
 * them than the previous success; `io.qcs.scan.failed` for a failed result (the scanner publishes
 * one only when it dead-letters the request). Pure; the same inputs always give the same answer,
 * so a redelivered result decides the same notification, which the queue then drops as a repeat.
 */
import {
  FINDINGS_NEW,
  type ImageRecordKey,
  imageRecordKeys,
  type Notification,
  type NotifiedCounts,
  SCAN_FAILED,
  type ScanCompleted,
  type ScanMetadataEntity,
  SEVERITIES,
  type Severity,
} from "@qcs/shared";

/**
 * The row whose previous state decides: the reference as deployed (its tag row, so a moved tag
 * compares against what the tag pointed to before), else the digest row.
 */
export function notificationKey(scan: Pick<ScanCompleted, "image">): ImageRecordKey | undefined {
  const keys = imageRecordKeys(scan.image);
  return keys.find((key) => key.kind === "tag") ?? keys[0];
}

/** Findings at or above `min`. */
export function countAtOrAbove(counts: NotifiedCounts, min: Severity): number {
  return SEVERITIES.slice(0, SEVERITIES.indexOf(min) + 1).reduce(
    (sum, severity) => sum + counts[severity],
    0,
  );
}

export function decideNotification(
  previous: ScanMetadataEntity | undefined,
  scan: ScanCompleted,
  minSeverity: Severity,
): Notification | undefined {
  if (previous?.RecentScanIds.split(",").includes(scan.scanId)) return undefined;
  const resources = scan.sources.flatMap((source) =>
    source.kind === "manual"
      ? []
      : [
          {
            resourceId: source.resourceId,
            kind: source.kind,
            ...(source.containerName === undefined ? {} : { containerName: source.containerName }),
          },
        ],
  );
  if (scan.status === "failed") {
    return {
      schemaVersion: 1,
      type: SCAN_FAILED,
      data: {
        ref: scan.image.ref,
        reason: scan.error?.class ?? "ScannerFailed",
        description: scan.error?.message ?? "",
        attempts: scan.attempt,
        resources,
        scanId: scan.scanId,
        failedAt: scan.finishedAt,
      },
    };
  }
  if (scan.status !== "succeeded" || scan.vulnerabilities === undefined) return undefined;
  const { critical, high, medium, low } = scan.vulnerabilities;
  const current = { critical, high, medium, low };
  const serious = countAtOrAbove(current, minSeverity);
  if (serious === 0) return undefined;

  const before = previousSuccess(previous);
  // A late, older result is history, not news: the newer success already decided.
  if (before && before.at.getTime() > Date.parse(scan.finishedAt)) return undefined;
  if (before && countAtOrAbove(before.vulnerabilities, minSeverity) >= serious) return undefined;
  return {
    schemaVersion: 1,
    type: FINDINGS_NEW,
    data: {
      ref: scan.image.ref,
      ...(scan.image.digest === undefined ? {} : { digest: scan.image.digest }),
      registry: scan.image.registry,
      repository: scan.image.repository,
      ...(scan.image.tag === undefined ? {} : { tag: scan.image.tag }),
      minSeverity,
      vulnerabilities: current,
      ...(before
        ? {
            previous: {
              ...(before.digest === undefined ? {} : { digest: before.digest }),
              vulnerabilities: before.vulnerabilities,
            },
          }
        : {}),
      resources,
      scanId: scan.scanId,
      scannedAt: scan.finishedAt,
    },
  };
}

function previousSuccess(row: ScanMetadataEntity | undefined) {
  if (row?.LastSuccessAt === undefined || row.VulnCritical === undefined) return undefined;
  return {
    at: row.LastSuccessAt,
    // The row's digest is its latest result's; close enough when that was the last success too.
    digest: row.Status === "succeeded" ? row.Digest : undefined,
    vulnerabilities: {
      critical: row.VulnCritical ?? 0,
      high: row.VulnHigh ?? 0,
      medium: row.VulnMedium ?? 0,
      low: row.VulnLow ?? 0,
    },
  };
}
