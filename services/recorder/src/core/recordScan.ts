/**
 * Records one ScanCompleted: its history rows (insert-if-absent) and, beside them, each ScanMetadata
 * row it touches: created at once as if the row were new (most results are for a new digest), or,
 * when the row exists, read, merged, written conditionally, re-read on conflict. Every step is
 * idempotent and every handling writes all of them, so a crash anywhere in between is repaired by
 * handling the message again.
 *
 * The notification is decided from the notified row as read, and queued before that row is
 * written: a crash after queueing decides the same again (the queue drops the repeat), and once
 * the row holds the result there is nothing left to notify, so nothing is lost or sent twice.
 */
import { type ImageRecordKey, imageRecordKeys, type ScanCompleted, type Severity } from "@qcs/shared";
import { decideNotification, notificationKey } from "./notifications.ts";
import {
  isWriteConflictError,
  type NotificationOutbox,
  type RecordOutcome,
  type ScanRecordWriter,
} from "./ports.ts";
import { scanHistoryEntities } from "./scanHistory.ts";
import { applyScanToMetadata, type MetadataOutcome } from "./scanMetadata.ts";

export interface RecordScanOptions {
  /** Conflicting writers tolerated per row before giving up (the message is then retried). Default: 20. */
  maxConflicts?: number;
  /** Where notifications go, and from which severity on findings are notified. */
  notify?: { outbox: NotificationOutbox; minSeverity: Severity };
}

export class ConflictLimitError extends Error {
  override readonly name = "ConflictLimitError";
  readonly code = "CONFLICT_LIMIT";
}

export async function recordScan(
  store: ScanRecordWriter,
  scan: ScanCompleted,
  options: RecordScanOptions = {},
): Promise<RecordOutcome> {
  const notified = notificationKey(scan)?.rowKey;
  const [outcomes] = await Promise.all([
    Promise.all(
      imageRecordKeys(scan.image).map((key) =>
        updateMetadata(
          store,
          scan,
          key,
          options.maxConflicts ?? 20,
          key.rowKey === notified ? options.notify : undefined,
        ),
      ),
    ),
    Promise.all(scanHistoryEntities(scan).map((entity) => store.insertHistory(entity))),
  ]);
  return combine(outcomes);
}

async function updateMetadata(
  store: ScanRecordWriter,
  scan: ScanCompleted,
  key: ImageRecordKey,
  maxConflicts: number,
  notify: RecordScanOptions["notify"],
): Promise<MetadataOutcome> {
  // Create first, read only on a conflict: one request instead of two for a new row. Not where the
  // row as read decides a notification (it is queued before the write, and an absent row is no
  // evidence until the create succeeds).
  if (!notify || !decideNotification(undefined, scan, notify.minSeverity)) {
    const created = applyScanToMetadata(undefined, scan, key);
    if (!created.entity) return created.outcome;
    try {
      await store.createMetadata(created.entity);
      return created.outcome;
    } catch (error) {
      if (!isWriteConflictError(error)) throw error;
    }
  }
  for (let conflicts = 0; ; conflicts += 1) {
    const stored = await store.readMetadata(key);
    if (notify) {
      const notification = decideNotification(stored?.entity, scan, notify.minSeverity);
      if (notification) await notify.outbox.send(notification);
    }
    const change = applyScanToMetadata(stored?.entity, scan, key);
    if (!change.entity) return change.outcome;
    try {
      if (stored) await store.replaceMetadata(change.entity, stored.etag);
      else await store.createMetadata(change.entity);
      return change.outcome;
    } catch (error) {
      if (!isWriteConflictError(error)) throw error;
      if (conflicts >= maxConflicts) {
        throw new ConflictLimitError(`${key.ref}: gave up after ${conflicts + 1} conflicting writes`);
      }
    }
  }
}

/** One outcome per message: recorded when any row took it as new, duplicate when every row had it. */
function combine(outcomes: MetadataOutcome[]): RecordOutcome {
  if (outcomes.some((outcome) => outcome === "created" || outcome === "updated")) return "recorded";
  if (outcomes.some((outcome) => outcome === "outOfOrder")) return "outOfOrder";
  return "duplicate";
}
