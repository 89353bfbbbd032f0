/**
 * The read side: what the API asks of storage, in images rather than table keys, and the pure parts
 * of answering it (statistics, opaque continuation tokens).
 */
import type { ImageKeySource, ImageRef, ScanMetadataEntity, ScanStatus } from "@qcs/shared";
import type { ScanHistoryEntity } from "./scanHistory.ts";

export interface LatestFilter {
  status?: ScanStatus | undefined;
  registry?: string | undefined;
  /** Only images whose latest scan finished at or after this time. */
  since?: Date | undefined;
}

export interface HistoryPage {
  items: ScanHistoryEntity[];
  /** RowKey of the last item when more may follow. */
  after?: string | undefined;
}

export interface HistoryPageRequest {
  limit: number;
  /** The `after` of the previous page. */
  after?: string | undefined;
}

export interface LatestPageRequest {
  limit: number;
  /** The `continuation` of the previous page (opaque, from storage). */
  continuation?: string | undefined;
}

export interface LatestPage {
  items: ScanMetadataEntity[];
  /** Present when more may follow. */
  continuation?: string | undefined;
}

/** The latest state of an image as the scanner's cache sees it: its digest row, else its tag row. */
export type LatestStateOf = (image: ImageKeySource) => ScanMetadataEntity | undefined;

export interface ScanRecordReader {
  /**
   * Latest states (tag aliases of digests excluded) that match the filter, one page in storage key
   * order (registry, then repository and tag or digest): storage pages, so a page costs a page.
   */
  list(filter: LatestFilter, page: LatestPageRequest): Promise<LatestPage>;
  /** Every latest state, for statistics: a whole-table read the caller must not repeat per request. */
  all(): Promise<ScanMetadataEntity[]>;
  /**
   * Every row, tag aliases included, as a lookup that answers as {@link latestOf} would: one
   * whole-table read for coverage, which the caller must not repeat per request.
   */
  allStates(): Promise<LatestStateOf>;
  /** The latest state of an image: by its digest when it has one, else by its tag. */
  latestOf(image: ImageRef): Promise<ScanMetadataEntity | undefined>;
  /** The scans recorded under this reference (tag or digest form), newest first. */
  historyOf(image: ImageRef, page: HistoryPageRequest): Promise<HistoryPage>;
  /** Every recorded scan, newest first. */
  timeline(page: HistoryPageRequest): Promise<HistoryPage>;
}

export interface ScanStats {
  images: number;
  byStatus: Record<ScanStatus, number>;
  /** Sum over images of the findings of each one's latest successful scan. */
  vulnerabilities: {
    critical: number;
    high: number;
    medium: number;
    low: number;
    informational: number;
    total: number;
  };
  /** Finish time of the newest latest state, absent when nothing was recorded. */
  lastScanAt?: Date | undefined;
}

export function summarize(rows: ScanMetadataEntity[]): ScanStats {
  const stats: ScanStats = {
    images: rows.length,
    byStatus: { succeeded: 0, failed: 0, skipped: 0 },
    vulnerabilities: { critical: 0, high: 0, medium: 0, low: 0, informational: 0, total: 0 },
  };
  for (const row of rows) {
    stats.byStatus[row.Status] += 1;
    const v = stats.vulnerabilities;
    v.critical += row.VulnCritical ?? 0;
    v.high += row.VulnHigh ?? 0;
    v.medium += row.VulnMedium ?? 0;
    v.low += row.VulnLow ?? 0;
    v.informational += row.VulnInformational ?? 0;
    v.total += row.VulnTotal ?? 0;
    if (stats.lastScanAt === undefined || row.LastScanAt > stats.lastScanAt)
      stats.lastScanAt = row.LastScanAt;
  }
  return stats;
}

/** Continuation tokens are opaque to clients: base64url JSON, checked on the way back in. */
export function encodeContinuation(value: unknown): string {
  return Buffer.from(JSON.stringify(value), "utf8").toString("base64url");
}

export function decodeContinuation(token: string): unknown {
  try {
    return JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
}
