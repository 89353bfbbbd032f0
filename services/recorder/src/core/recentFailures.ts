/**
 * Failed scans of a recent window, by reason. The scanner publishes a failed result only when it
 * dead-letters the request, so these are the dead letters of `scan-requests` as the recorder saw
 * them (the broker's own reasons, such as MaxDeliveryCountExceeded, reach no result). Read from
 * the timeline, newest first, until the window ends: the API and the status page share one reading.
 */
import { remedyOf } from "@qcs/shared";
import type { ScanHistoryEntity } from "./scanHistory.ts";
import type { ScanRecordReader } from "./scanQueries.ts";

/** Timeline rows read per reading at most, so a flood of results cannot make one reading unbounded. */
export const MAX_TIMELINE_ROWS = 20_000;
const PAGE_ROWS = 1_000;

export interface FailureReason {
  reason: string;
  count: number;
  /** Distinct image references among the failures. */
  images: number;
  lastAt: Date;
  /** What to do about it; undefined for a class this version does not know. */
  remedy: string | undefined;
}

export interface RecentFailures {
  since: Date;
  /** Newest first. */
  failures: ScanHistoryEntity[];
  /** Most frequent first, then by name. */
  reasons: FailureReason[];
  /** Timeline rows read (every status). */
  scanned: number;
  /** The window held more than {@link MAX_TIMELINE_ROWS} results: counts are a lower bound. */
  truncated: boolean;
}

export async function readRecentFailures(
  reader: Pick<ScanRecordReader, "timeline">,
  since: Date,
  maxRows = MAX_TIMELINE_ROWS,
): Promise<RecentFailures> {
  const failures: ScanHistoryEntity[] = [];
  let scanned = 0;
  let after: string | undefined;
  for (;;) {
    const page = await reader.timeline({ limit: Math.min(PAGE_ROWS, maxRows - scanned), after });
    for (const row of page.items) {
      if (row.FinishedAt < since) return summarizeFailures(since, failures, scanned, false);
      scanned += 1;
      if (row.Status === "failed") failures.push(row);
    }
    if (page.after === undefined) return summarizeFailures(since, failures, scanned, false);
    if (scanned >= maxRows) return summarizeFailures(since, failures, scanned, true);
    after = page.after;
  }
}

export function summarizeFailures(
  since: Date,
  failures: ScanHistoryEntity[],
  scanned: number,
  truncated: boolean,
): RecentFailures {
  const byReason = new Map<string, { rows: number; refs: Set<string>; lastAt: Date }>();
  for (const row of failures) {
    const reason = row.ErrorClass ?? "Unknown";
    const entry = byReason.get(reason) ?? { rows: 0, refs: new Set<string>(), lastAt: row.FinishedAt };
    entry.rows += 1;
    entry.refs.add(row.Ref);
    if (row.FinishedAt > entry.lastAt) entry.lastAt = row.FinishedAt;
    byReason.set(reason, entry);
  }
  const reasons = [...byReason].map(([reason, entry]) => ({
    reason,
    count: entry.rows,
    images: entry.refs.size,
    lastAt: entry.lastAt,
    remedy: remedyOf(reason),
  }));
  reasons.sort((a, b) => b.count - a.count || (a.reason < b.reason ? -1 : 1));
  return { since, failures, reasons, scanned, truncated };
}

export interface FailuresPageRequest {
  /** Only failures of this class. */
  reason?: string | undefined;
  limit: number;
  /** RowKey of the last failure of the previous page (timeline order, so pages survive a new reading). */
  after?: string | undefined;
}

export function failuresPage(
  recent: RecentFailures,
  request: FailuresPageRequest,
): { items: ScanHistoryEntity[]; after?: string } {
  const matching = recent.failures.filter(
    (row) =>
      (request.reason === undefined || (row.ErrorClass ?? "Unknown") === request.reason) &&
      (request.after === undefined || row.rowKey > request.after),
  );
  const items = matching.slice(0, request.limit);
  const last = items.at(-1);
  return matching.length > items.length && last !== undefined ? { items, after: last.rowKey } : { items };
}
