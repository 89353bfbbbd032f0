/**
 * What the core needs from storage, named for its needs. The Table Storage adapter implements
 * these; unit tests use an in-memory fake with the same ETag semantics.
 */
import type { Notification, ScanMetadataEntity, TableKey } from "@qcs/shared";
import type { ScanHistoryEntity } from "./scanHistory.ts";

export interface StoredMetadata {
  /** Undefined when the row exists but is not in our format (a row of the original system): it is replaced. */
  entity: ScanMetadataEntity | undefined;
  /** Opaque version of the stored row, for optimistic concurrency. */
  etag: string;
}

export interface ScanRecordWriter {
  readMetadata(key: TableKey): Promise<StoredMetadata | undefined>;
  /** Inserts a row that must not exist yet; {@link WriteConflictError} when another writer was first. */
  createMetadata(entity: ScanMetadataEntity): Promise<void>;
  /** Replaces the row if it is still at `etag`; {@link WriteConflictError} when it changed meanwhile. */
  replaceMetadata(entity: ScanMetadataEntity, etag: string): Promise<void>;
  /** Inserts a history row; false when a row with its keys already exists. */
  insertHistory(entity: ScanHistoryEntity): Promise<boolean>;
}

/** Another writer changed or created the row between our read and our write: read again. */
export class WriteConflictError extends Error {
  override readonly name = "WriteConflictError";
  readonly code = "WRITE_CONFLICT";
}

export function isWriteConflictError(error: unknown): error is WriteConflictError {
  return error instanceof Error && error.name === "WriteConflictError";
}

/** Counters the core reports to; the adapter behind them is OpenTelemetry. */
export interface RecorderMetrics {
  /** A result handled to the end: recorded (new latest state), out of order, or a duplicate. */
  resultHandled(status: string, outcome: RecordOutcome): void;
  storageRetried(): void;
  deadLettered(reason: string): void;
}

export type RecordOutcome = "recorded" | "outOfOrder" | "duplicate";

/** Queues a notification for delivery; repeats of one (same scan and type) are dropped downstream. */
export interface NotificationOutbox {
  send(notification: Notification): Promise<void>;
}
