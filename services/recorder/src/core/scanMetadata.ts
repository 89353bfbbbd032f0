/**
 * The recorder's rules for ScanMetadata rows: how one result changes the latest state of a
 * reference, idempotently (recent scan IDs) and whatever order results arrive in (finish time, then
 * scan ID; a cached skip never replaces a real scan), and where the image runs.
 */
import type { ImageRecordKey, ScanCompleted, ScanMetadataEntity } from "@qcs/shared";

/** Resource IDs kept per image ("where it runs"), newest first. */
export const MAX_RESOURCE_IDS = 20;
/** Scan IDs remembered per row so that a repeated result changes nothing. */
export const MAX_RECENT_SCAN_IDS = 32;

export function resourceIdsOf(entity: Pick<ScanMetadataEntity, "ResourceIds">): string[] {
  try {
    const parsed: unknown = JSON.parse(entity.ResourceIds);
    return Array.isArray(parsed) ? parsed.filter((item): item is string => typeof item === "string") : [];
  } catch {
    return [];
  }
}

/**
 * Orders results: later `finishedAt` first, then scanId as a tie-break so every replica agrees.
 * Positive when `a` is newer than `b`.
 */
export function compareResults(
  a: { finishedAt: Date; scanId: string },
  b: { finishedAt: Date; scanId: string },
): number {
  const byTime = a.finishedAt.getTime() - b.finishedAt.getTime();
  if (byTime !== 0) return byTime;
  return a.scanId < b.scanId ? -1 : a.scanId > b.scanId ? 1 : 0;
}

/**
 * True when `scan` should replace the latest state stored in `current`. A skipped (cached)
 * result never replaces a real scan; any real scan replaces a state that only a skipped result
 * set; otherwise the newer result wins.
 */
export function isNewerThanStored(
  scan: Pick<ScanCompleted, "status" | "finishedAt" | "scanId">,
  current: Pick<ScanMetadataEntity, "Status" | "LastScanAt" | "LastScanId"> | undefined,
): boolean {
  if (current === undefined) return true;
  if (scan.status === "skipped" && current.Status !== "skipped") return false;
  if (scan.status !== "skipped" && current.Status === "skipped") return true;
  return (
    compareResults(
      { finishedAt: new Date(scan.finishedAt), scanId: scan.scanId },
      { finishedAt: current.LastScanAt, scanId: current.LastScanId },
    ) > 0
  );
}

export type MetadataOutcome =
  /** The row did not exist. */
  | "created"
  /** The result became the latest state. */
  | "updated"
  /** An older result than the stored one: counted and merged, latest state kept. */
  | "outOfOrder"
  /** This result was applied to the row before: nothing to write. */
  | "duplicate";

export interface MetadataChange {
  outcome: MetadataOutcome;
  /** The row to write; absent for a duplicate. */
  entity?: ScanMetadataEntity;
}

/**
 * The ScanMetadata row after applying `scan` to `current` (undefined: the row does not exist).
 * Idempotent (a result already applied is a duplicate) and order-tolerant: the latest state
 * follows {@link isNewerThanStored}, the last success and "last seen" take the maximum, and
 * every result that ran counts once.
 */
export function applyScanToMetadata(
  current: ScanMetadataEntity | undefined,
  scan: ScanCompleted,
  key: ImageRecordKey,
): MetadataChange {
  const recent = current?.RecentScanIds ? current.RecentScanIds.split(",") : [];
  if (recent.includes(scan.scanId)) return { outcome: "duplicate" };

  const finishedAt = new Date(scan.finishedAt);
  // A tag row follows the digest its tag last resolved to, even to content scanned under another tag.
  const retagged =
    key.kind === "tag" &&
    scan.image.digest !== undefined &&
    current?.Digest !== undefined &&
    scan.image.digest !== current.Digest &&
    new Date(scan.finishedAt).getTime() >= current.LastSeenAt.getTime();
  const newer = retagged || isNewerThanStored(scan, current);
  const seenNewer = current === undefined || finishedAt.getTime() >= current.LastSeenAt.getTime();
  const next: ScanMetadataEntity = current
    ? { ...current }
    : {
        partitionKey: key.partitionKey,
        rowKey: key.rowKey,
        Ref: key.ref,
        Registry: key.registry,
        Repository: key.repository,
        Alias: false,
        Status: scan.status,
        LastScanId: scan.scanId,
        LastScanAt: finishedAt,
        LastSeenAt: finishedAt,
        ScanCount: 0,
        ResourceIds: "[]",
        RecentScanIds: "",
      };

  next.RecentScanIds = [scan.scanId, ...recent].slice(0, MAX_RECENT_SCAN_IDS).join(",");
  if (seenNewer) next.LastSeenAt = finishedAt;
  next.ResourceIds = JSON.stringify(mergeResourceIds(current ? resourceIdsOf(current) : [], scan, seenNewer));
  if (scan.status !== "skipped") next.ScanCount += 1;

  if (newer) {
    next.Status = scan.status;
    next.LastScanId = scan.scanId;
    next.LastScanAt = finishedAt;
    next.Alias = scan.image.ref !== key.ref;
    if (scan.image.digest !== undefined) next.Digest = scan.image.digest;
    if (scan.image.tag !== undefined) next.Tag = scan.image.tag;
    next.ErrorClass = scan.error?.class;
    next.ErrorMessage = scan.error?.message;
    if (scan.status !== "skipped") {
      next.ScannerVersion = scan.scanner.version;
      next.QualysImageId = scan.qualys?.imageId ?? next.QualysImageId;
    }
  }

  const successNewer =
    scan.status === "succeeded" &&
    (next.LastSuccessAt === undefined ||
      compareResults(
        { finishedAt, scanId: scan.scanId },
        { finishedAt: next.LastSuccessAt, scanId: next.LastSuccessScanId ?? "" },
      ) > 0);
  if (successNewer) {
    next.LastSuccessAt = finishedAt;
    next.LastSuccessScanId = scan.scanId;
    next.LastSuccessScannerVersion = scan.scanner.version;
    const counts = scan.vulnerabilities;
    next.VulnCritical = counts?.critical;
    next.VulnHigh = counts?.high;
    next.VulnMedium = counts?.medium;
    next.VulnLow = counts?.low;
    next.VulnInformational = counts?.informational;
    next.VulnTotal = counts?.total;
  }

  const outcome: MetadataOutcome =
    current === undefined ? "created" : newer || scan.status === "skipped" ? "updated" : "outOfOrder";
  return { outcome, entity: next };
}

function resourceIdsFrom(scan: ScanCompleted): string[] {
  return scan.sources.flatMap((source) => (source.kind === "manual" ? [] : [source.resourceId]));
}

function mergeResourceIds(stored: string[], scan: ScanCompleted, newest: boolean): string[] {
  const incoming = resourceIdsFrom(scan);
  const merged = newest ? [...incoming, ...stored] : [...stored, ...incoming];
  return [...new Set(merged)].slice(0, MAX_RESOURCE_IDS);
}
