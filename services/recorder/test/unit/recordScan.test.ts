import { imageRecordKeys, parseImageRef, type TableKey } from "@qcs/shared";
import { createLogger } from "@qcs/shared/runtime";
import { describe, expect, it } from "vitest";
import { createScanCompletedHandler, type StorageRetryPolicy } from "../../src/core/handleScanCompleted.ts";
import type { RecorderMetrics, RecordOutcome, ScanRecordWriter } from "../../src/core/ports.ts";
import { ConflictLimitError, recordScan } from "../../src/core/recordScan.ts";
import { scanHistoryEntities } from "../../src/core/scanHistory.ts";
import { InMemoryScanRecords } from "../support/inMemoryScanRecords.ts";
import { completedScan, failedScan, messageOf } from "../support/scans.ts";

const [digestKey, tagKey] = imageRecordKeys(completedScan().image);
if (!digestKey || !tagKey) throw new Error("fixture image needs a digest and a tag");

class CountingMetrics implements RecorderMetrics {
  handled: Array<[string, RecordOutcome]> = [];
  retries = 0;
  deadLetters: string[] = [];
  resultHandled(status: string, outcome: RecordOutcome) {
    this.handled.push([status, outcome]);
  }
  storageRetried() {
    this.retries += 1;
  }
  deadLettered(reason: string) {
    this.deadLetters.push(reason);
  }
}

const quickRetry: StorageRetryPolicy = { initialDelayMs: 1, maxDelayMs: 4, budgetMs: 10_000 };
const silent = createLogger({ name: "test", level: "silent" });
const neverAborted = new AbortController().signal;

/** Keeps the row keys of the ScanMetadata reads. */
class ReadCounting extends InMemoryScanRecords {
  readonly reads: string[] = [];
  override readMetadata(key: TableKey) {
    this.reads.push(key.rowKey);
    return super.readMetadata(key);
  }
}

function handler(store: ScanRecordWriter, retry = quickRetry) {
  const metrics = new CountingMetrics();
  return { metrics, handle: createScanCompletedHandler({ store, metrics, logger: silent, retry }) };
}

describe("recordScan", () => {
  it("writes the timeline row, one history row per reference and both ScanMetadata rows", async () => {
    const store = new InMemoryScanRecords();
    const scan = completedScan();
    expect(await recordScan(store, scan)).toBe("recorded");
    expect([...store.history.values()]).toEqual(scanHistoryEntities(scan));
    expect(store.metadataRow(digestKey)).toMatchObject({ Status: "succeeded", Alias: false, ScanCount: 1 });
    expect(store.metadataRow(tagKey)).toMatchObject({ Status: "succeeded", Alias: true, ScanCount: 1 });
  });

  it("changes nothing when the same result is recorded twice", async () => {
    const store = new InMemoryScanRecords();
    const scan = completedScan();
    await recordScan(store, scan);
    const before = structuredClone([...store.metadata.entries()]);
    expect(await recordScan(store, scan)).toBe("duplicate");
    expect([...store.metadata.entries()]).toEqual(before);
    expect(store.history.size).toBe(3);
  });

  it("keeps the newer state when an older result arrives after it", async () => {
    const store = new InMemoryScanRecords();
    const newer = failedScan({ finishedAt: "2025-03-14T12:00:00.000Z" });
    await recordScan(store, newer);
    expect(await recordScan(store, completedScan({ finishedAt: "2025-03-14T08:00:00.000Z" }))).toBe(
      "outOfOrder",
    );
    expect(store.metadataRow(digestKey)).toMatchObject({
      Status: "failed",
      LastScanId: newer.scanId,
      ScanCount: 2,
    });
  });

  it("records concurrent results for one image from several writers without losing any", async () => {
    const store = new InMemoryScanRecords();
    const scans = Array.from({ length: 8 }, (_, index) =>
      completedScan({ finishedAt: new Date(Date.UTC(2025, 2, 14, 10, index)).toISOString() }),
    );
    await Promise.all(scans.map((scan) => recordScan(store, scan)));
    const newest = scans.at(-1);
    expect(store.metadataRow(digestKey)).toMatchObject({ ScanCount: 8, LastScanId: newest?.scanId });
    expect(store.metadataRow(tagKey)).toMatchObject({ ScanCount: 8, LastScanId: newest?.scanId });
    expect(store.history.size).toBe(8 * 3);
  });

  it("completes a partly recorded result after a crash between history and metadata", async () => {
    const store = new InMemoryScanRecords();
    const scan = completedScan();
    for (const entity of scanHistoryEntities(scan)) await store.insertHistory(entity);
    expect(await recordScan(store, scan)).toBe("recorded");
    expect(store.metadataRow(digestKey)?.ScanCount).toBe(1);
  });

  it("creates new rows without reading them, and reads and merges a row only when it exists", async () => {
    const store = new ReadCounting();
    const { reads } = store;
    expect(await recordScan(store, completedScan({ finishedAt: "2025-03-14T08:00:00.000Z" }))).toBe(
      "recorded",
    );
    expect(reads).toEqual([]);
    expect(await recordScan(store, failedScan({ finishedAt: "2025-03-14T09:00:00.000Z" }))).toBe("recorded");
    expect(reads.sort()).toEqual([digestKey.rowKey, tagKey.rowKey].sort());
    expect(store.metadataRow(digestKey)).toMatchObject({ Status: "failed", ScanCount: 2 });
  });

  it("reads the notified row first when an absent row would decide a notification", async () => {
    const store = new ReadCounting();
    const { reads } = store;
    const sent: unknown[] = [];
    const outbox = { send: async (notification: unknown) => void sent.push(notification) };
    // A failed scan is notified whatever the row held before.
    await recordScan(store, failedScan(), { notify: { outbox, minSeverity: "high" } });
    expect(reads).toEqual([tagKey.rowKey]);
    expect(sent).toHaveLength(1);
  });

  it("gives up after too many conflicting writers, so the message is retried later", async () => {
    const store = new InMemoryScanRecords();
    await recordScan(store, completedScan());
    const alwaysConflicting: ScanRecordWriter = {
      readMetadata: (key) => store.readMetadata(key),
      createMetadata: (entity) => store.createMetadata(entity),
      replaceMetadata: async (entity) => store.replaceMetadata(entity, "stale"),
      insertHistory: (entity) => store.insertHistory(entity),
    };
    await expect(recordScan(alwaysConflicting, completedScan(), { maxConflicts: 3 })).rejects.toBeInstanceOf(
      ConflictLimitError,
    );
  });
});

describe("ScanCompleted handler", () => {
  it("completes a recorded result and counts it by status", async () => {
    const { metrics, handle } = handler(new InMemoryScanRecords());
    expect(await handle(messageOf(failedScan()), neverAborted)).toEqual({
      action: "complete",
      outcome: "recorded",
    });
    expect(metrics.handled).toEqual([["failed", "recorded"]]);
  });

  it("completes a duplicate without writing", async () => {
    const store = new InMemoryScanRecords();
    const { metrics, handle } = handler(store);
    const message = messageOf(completedScan());
    await handle(message, neverAborted);
    expect(await handle(message, neverAborted)).toEqual({ action: "complete", outcome: "duplicate" });
    expect(metrics.handled.map(([, outcome]) => outcome)).toEqual(["recorded", "duplicate"]);
  });

  it("dead-letters a body that breaks the contract as InvalidMessage, naming the field", async () => {
    const store = new InMemoryScanRecords();
    const { metrics, handle } = handler(store);
    const broken = { ...completedScan(), status: "exploded" };
    const settlement = await handle({ body: broken, subject: "ScanCompleted" }, neverAborted);
    expect(settlement).toMatchObject({ action: "deadLetter", reason: "InvalidMessage" });
    expect(settlement.action === "deadLetter" && settlement.description).toContain("status");
    expect(metrics.deadLetters).toEqual(["InvalidMessage"]);
    expect(store.calls).toBe(0);
  });

  it("dead-letters a body that is not JSON and a message with the wrong subject", async () => {
    const { handle } = handler(new InMemoryScanRecords());
    expect(
      await handle({ body: Buffer.from("{oops"), subject: "ScanCompleted" }, neverAborted),
    ).toMatchObject({
      action: "deadLetter",
      reason: "InvalidMessage",
    });
    expect(
      await handle({ ...messageOf(completedScan()), subject: "ScanRequested" }, neverAborted),
    ).toMatchObject({
      action: "deadLetter",
    });
  });

  it("retries storage failures while it holds the message and then records it", async () => {
    const store = new InMemoryScanRecords();
    const { metrics, handle } = handler(store);
    store.failNext(5);
    expect(await handle(messageOf(completedScan()), neverAborted)).toEqual({
      action: "complete",
      outcome: "recorded",
    });
    expect(metrics.retries).toBeGreaterThanOrEqual(1);
    expect(store.metadataRow(digestKey)?.ScanCount).toBe(1);
  });

  it("abandons the message for redelivery when storage stays down past the retry budget", async () => {
    const store = new InMemoryScanRecords();
    const { handle } = handler(store, { initialDelayMs: 1, maxDelayMs: 2, budgetMs: 20 });
    store.failNext(Number.POSITIVE_INFINITY);
    expect(await handle(messageOf(completedScan()), neverAborted)).toMatchObject({ action: "abandon" });
  });

  it("abandons at once when shutdown's deadline fires during a retry", async () => {
    const store = new InMemoryScanRecords();
    const { handle } = handler(store, { initialDelayMs: 60_000, maxDelayMs: 60_000, budgetMs: 600_000 });
    store.failNext(Number.POSITIVE_INFINITY);
    const deadline = new AbortController();
    const settled = handle(messageOf(completedScan()), deadline.signal);
    setImmediate(() => deadline.abort());
    expect(await settled).toMatchObject({ action: "abandon" });
  });

  it("records a tag-only failure under the tag row alone", async () => {
    const store = new InMemoryScanRecords();
    const { handle } = handler(store);
    const scan = failedScan({ image: parseImageRef("myreg.azurecr.io/payments/invoice-worker:2.4.1") });
    await handle(messageOf(scan), neverAborted);
    expect(store.metadataRow(tagKey)).toMatchObject({ Status: "failed", Alias: false });
    expect(store.metadataRow(digestKey)).toBeUndefined();
  });
});
