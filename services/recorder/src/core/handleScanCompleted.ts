/**
 * What to do with one received ScanCompleted message: record it and complete it; dead-letter it
 * as `InvalidMessage` when it breaks the contract (or storage rejects its content); retry
 * storage failures with backoff while the message stays locked, and abandon it (so the broker
 * redelivers it) when the retry budget or the shutdown deadline runs out. Nothing is dropped.
 */
import { setTimeout as sleep } from "node:timers/promises";
import {
  type IncomingMessage,
  isContractError,
  type Logger,
  parseScanCompletedMessage,
  redactSecrets,
} from "@qcs/shared";
import type { RecorderMetrics, RecordOutcome, ScanRecordWriter } from "./ports.ts";
import { type RecordScanOptions, recordScan } from "./recordScan.ts";

export const INVALID_MESSAGE = "InvalidMessage";

export type Settlement =
  | { action: "complete"; outcome: RecordOutcome }
  | { action: "deadLetter"; reason: typeof INVALID_MESSAGE; description: string }
  | { action: "abandon"; error: unknown };

export interface StorageRetryPolicy {
  /** First delay after a failed attempt; doubles up to `maxDelayMs`. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** Time one delivery may spend retrying before it is abandoned to the broker. */
  budgetMs: number;
}

export const DEFAULT_STORAGE_RETRY: StorageRetryPolicy = {
  initialDelayMs: 500,
  maxDelayMs: 15_000,
  budgetMs: 120_000,
};

export interface ScanCompletedHandlerOptions extends RecordScanOptions {
  store: ScanRecordWriter;
  metrics: RecorderMetrics;
  logger: Logger;
  retry?: StorageRetryPolicy;
  /** Default: `Math.random`; spreads retries of replicas that failed together. */
  random?: () => number;
}

/** Storage refused the content itself (too large, malformed): retrying cannot help. */
export class ContentRejectedError extends Error {
  override readonly name = "ContentRejectedError";
  readonly code = "CONTENT_REJECTED";
}

export function isContentRejectedError(error: unknown): error is ContentRejectedError {
  return error instanceof Error && error.name === "ContentRejectedError";
}

export type ScanCompletedHandler = (message: IncomingMessage, deadline: AbortSignal) => Promise<Settlement>;

export function createScanCompletedHandler(options: ScanCompletedHandlerOptions): ScanCompletedHandler {
  const retry = options.retry ?? DEFAULT_STORAGE_RETRY;
  const random = options.random ?? Math.random;
  const { metrics, logger } = options;

  return async (message, deadline) => {
    let scan: ReturnType<typeof parseScanCompletedMessage>;
    try {
      scan = parseScanCompletedMessage(message);
    } catch (error) {
      if (!isContractError(error)) throw error;
      metrics.deadLettered(INVALID_MESSAGE);
      return { action: "deadLetter", reason: INVALID_MESSAGE, description: truncate(error.message) };
    }

    const started = Date.now();
    for (let delay = retry.initialDelayMs; ; delay = Math.min(delay * 2, retry.maxDelayMs)) {
      try {
        const outcome = await recordScan(options.store, scan, options);
        metrics.resultHandled(scan.status, outcome);
        return { action: "complete", outcome };
      } catch (error) {
        if (isContentRejectedError(error)) {
          metrics.deadLettered(INVALID_MESSAGE);
          return { action: "deadLetter", reason: INVALID_MESSAGE, description: truncate(error.message) };
        }
        const wait = Math.round(delay * (0.5 + random() / 2));
        if (deadline.aborted || Date.now() - started + wait > retry.budgetMs) {
          logger.warn(
            { err: error, scanId: scan.scanId },
            "storage still failing: abandoning for redelivery",
          );
          return { action: "abandon", error };
        }
        metrics.storageRetried();
        logger.warn({ err: error, scanId: scan.scanId, retryInMs: wait }, "storage failed: retrying");
        await sleep(wait, undefined, { signal: deadline }).catch(() => undefined);
        if (deadline.aborted) return { action: "abandon", error };
      }
    }
  };
}

/** Redacted before it is shortened: a secret cut at the edge would no longer be recognised. */
function truncate(text: string): string {
  const redacted = redactSecrets(text);
  return redacted.length > 1000 ? `${redacted.slice(0, 997)}...` : redacted;
}
