/**
 * Records one ScanCompleted: its history rows first (insert-if-absent), then each ScanMetadata
 * row it touches with read, merge, conditional write, re-read on conflict. Every step is
 * idempotent, so a crash anywhere in between is repaired by handling the message again.
 */
import { type ImageRecordKey, imageRecordKeys, type ScanCompleted } from "@qcs/shared";
import { isWriteConflictError, type RecordOutcome, type ScanRecordWriter } from "./ports.ts";
import { scanHistoryEntities } from "./scanHistory.ts";
import { applyScanToMetadata, type MetadataOutcome } from "./scanMetadata.ts";

export interface RecordScanOptions {
  /** Conflicting writers tolerated per row before giving up (the message is then retried). Default: 20. */
  maxConflicts?: number;
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
  const outcomes = await Promise.all(
    imageRecordKeys(scan.image).map((key) => updateMetadata(store, scan, key, options.maxConflicts ?? 20)),
  );
  return combine(outcomes);
}

async function updateMetadata(
  store: ScanRecordWriter,
  scan: ScanCompleted,
  key: ImageRecordKey,
  maxConflicts: number,
): Promise<MetadataOutcome> {
  for (let conflicts = 0; ; conflicts += 1) {
    const stored = await store.readMetadata(key);
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
