/**
 * Records one ScanCompleted: its history rows first (insert-if-absent), then each ScanMetadata
 * row it touches with read, merge, conditional write, re-read on conflict. Every step is
 * idempotent, so a crash anywhere in between is repaired by handling the message again.
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
  await Promise.all(scanHistoryEntities(scan).map((entity) => store.insertHistory(entity)));
  const notified = notificationKey(scan)?.rowKey;
  const outcomes = await Promise.all(
    imageRecordKeys(scan.image).map((key) =>
      updateMetadata(
        store,
        scan,
        key,
        options.maxConflicts ?? 20,
        key.rowKey === notified ? options.notify : undefined,
      ),
    ),
  );
  return combine(outcomes);
}

async function updateMetadata(
  store: ScanRecordWriter,
  scan: ScanCompleted,
  key: ImageRecordKey,
  maxConflicts: number,
  notify: RecordScanOptions["notify"],
): Promise<MetadataOutcome> {
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
