/**
 * The read side: what the API asks of storage, in images rather than table keys, and the pure parts
 * of answering it (ordering and paging of latest states, statistics, opaque cursors).
 */
import type { ImageRef, ScanMetadataEntity, ScanStatus } from "@qcs/shared";
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

export interface ScanRecordReader {
  /** Every latest state (tag aliases of digests excluded) that matches the filter, in no particular order. */
  list(filter: LatestFilter): Promise<ScanMetadataEntity[]>;
  /** The latest state of an image: by its digest when it has one, else by its tag. */
  latestOf(image: ImageRef): Promise<ScanMetadataEntity | undefined>;
  /** The scans recorded under this reference (tag or digest form), newest first. */
  historyOf(image: ImageRef, page: HistoryPageRequest): Promise<HistoryPage>;
  /** Every recorded scan, newest first. */
  timeline(page: HistoryPageRequest): Promise<HistoryPage>;
}

/** Position in the newest-first listing of latest states. */
export interface LatestCursor {
  lastScanAt: number;
  partitionKey: string;
  rowKey: string;
}

/** Newest first; ties in a stable key order, so pages never skip or repeat a row. */
export function compareLatest(a: LatestCursor, b: LatestCursor): number {
  if (a.lastScanAt !== b.lastScanAt) return b.lastScanAt - a.lastScanAt;
  if (a.partitionKey !== b.partitionKey) return a.partitionKey < b.partitionKey ? -1 : 1;
  if (a.rowKey !== b.rowKey) return a.rowKey < b.rowKey ? -1 : 1;
  return 0;
}

function cursorOf(row: ScanMetadataEntity): LatestCursor {
  return { lastScanAt: row.LastScanAt.getTime(), partitionKey: row.partitionKey, rowKey: row.rowKey };
}

export function pageLatest(
  rows: ScanMetadataEntity[],
  limit: number,
  after?: LatestCursor,
): { items: ScanMetadataEntity[]; next?: LatestCursor } {
  const sorted = rows
    .filter((row) => after === undefined || compareLatest(cursorOf(row), after) > 0)
    .sort((a, b) => compareLatest(cursorOf(a), cursorOf(b)));
  const items = sorted.slice(0, limit);
  const last = items.at(-1);
  return sorted.length > limit && last ? { items, next: cursorOf(last) } : { items };
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
