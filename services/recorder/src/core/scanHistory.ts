/**
 * ScanHistory rows, written by the recorder only: one row per scan in partition `timeline` (all
 * scans, newest first) and one per reference in a partition named after that reference (its
 * history, newest first); RowKey = inverted finish time + scanId. Each question is one range query
 * over one partition, and writing a result again hits the same rows.
 */
import {
  imageRecordKeys,
  parseImageRef,
  type ScanCompleted,
  type ScanStatus,
  type TableKey,
  tableKey,
  type VulnerabilityCountColumns,
} from "@qcs/shared";

export const HISTORY_TIMELINE_PARTITION = "timeline";
/** Sources kept per history row (the full list can hold 100; a Table property holds 64 KiB). */
export const MAX_HISTORY_SOURCES = 20;

export interface ScanHistoryEntity extends TableKey, VulnerabilityCountColumns {
  ScanId: string;
  RequestId: string;
  /** The scan's canonical reference (by digest when known). */
  Ref: string;
  Registry: string;
  Repository: string;
  Tag?: string | undefined;
  Digest?: string | undefined;
  Status: ScanStatus;
  SkipReason?: string | undefined;
  Attempt: number;
  StartedAt: Date;
  FinishedAt: Date;
  DurationMs: number;
  ScannerName: string;
  ScannerVersion: string;
  ScannerMode: string;
  QualysPod?: string | undefined;
  QualysImageId?: string | undefined;
  QualysImageSha?: string | undefined;
  ErrorClass?: string | undefined;
  ErrorMessage?: string | undefined;
  ExitCode?: number | undefined;
  /** JSON array of the first {@link MAX_HISTORY_SOURCES} sources of the result. */
  Sources: string;
  SourceCount: number;
}

/** The partition holding the history of one reference (`registry/repository:tag` or `...@digest`). */
export function historyPartitionKey(ref: string): string {
  return tableKey(ref);
}

// Dates up to JavaScript's maximum (8.64e15 ms) in 16 digits; earlier times sort later.
const MAX_TIME_MS = 8_640_000_000_000_000;

/** Inverted time, so an ascending range query returns the newest rows first. */
export function invertedTimeKey(time: Date): string {
  const ms = Math.min(Math.max(time.getTime(), 0), MAX_TIME_MS);
  return String(MAX_TIME_MS - ms).padStart(16, "0");
}

export function historyRowKey(finishedAt: Date, scanId: string): string {
  return `${invertedTimeKey(finishedAt)}_${tableKey(scanId)}`;
}

/**
 * The ScanHistory rows of one result: its timeline row first, then one row per reference
 * ({@link imageRecordKeys}). All keyed by the scan's finish time and ID, so writing them again
 * hits the same rows.
 */
export function scanHistoryEntities(scan: ScanCompleted): ScanHistoryEntity[] {
  const finishedAt = new Date(scan.finishedAt);
  const rowKey = historyRowKey(finishedAt, scan.scanId);
  const parsed = parseImageRef(scan.image.ref);
  const counts = scan.vulnerabilities;
  const body: Omit<ScanHistoryEntity, "partitionKey" | "rowKey"> = {
    ScanId: scan.scanId,
    RequestId: scan.requestId,
    Ref: scan.image.ref,
    Registry: parsed.registry,
    Repository: parsed.repository,
    Tag: parsed.tag ?? scan.image.tag,
    Digest: parsed.digest ?? scan.image.digest,
    Status: scan.status,
    SkipReason: scan.skipReason,
    Attempt: scan.attempt,
    StartedAt: new Date(scan.startedAt),
    FinishedAt: finishedAt,
    DurationMs: scan.durationMs,
    ScannerName: scan.scanner.name,
    ScannerVersion: scan.scanner.version,
    ScannerMode: scan.scanner.mode,
    VulnCritical: counts?.critical,
    VulnHigh: counts?.high,
    VulnMedium: counts?.medium,
    VulnLow: counts?.low,
    VulnInformational: counts?.informational,
    VulnTotal: counts?.total,
    QualysPod: scan.qualys?.pod,
    QualysImageId: scan.qualys?.imageId,
    QualysImageSha: scan.qualys?.imageSha,
    ErrorClass: scan.error?.class,
    ErrorMessage: scan.error?.message,
    ExitCode: scan.error?.exitCode,
    Sources: JSON.stringify(scan.sources.slice(0, MAX_HISTORY_SOURCES)),
    SourceCount: scan.sources.length,
  };
  return [
    { partitionKey: HISTORY_TIMELINE_PARTITION, rowKey, ...body },
    ...imageRecordKeys(scan.image).map((key) => ({
      partitionKey: historyPartitionKey(key.ref),
      rowKey,
      ...body,
    })),
  ];
}
