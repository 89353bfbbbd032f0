// The cache reader against Azurite, reading rows written with the recorder's layout (scanRecords).
import { TableClient } from "@azure/data-tables";
import type { RunningAzurite } from "@qcs/emulators";
import { applyScanToMetadata } from "@qcs/recorder/scanRecords";
import { imageRecordKeys, parseImageRef, type ScanCompleted } from "@qcs/shared";
import { sharedAzurite } from "@qcs/test-support/azurite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TableScanCacheReader } from "../../src/adapters/tableStorage/scanCacheReader.ts";
import { storageDownConnectionString } from "../support/deadEndpoint.ts";

const DIGEST = `sha256:${"4a".repeat(32)}`;
let azurite: RunningAzurite;
let table: TableClient;

beforeAll(async () => {
  azurite = await sharedAzurite();
  table = TableClient.fromConnectionString(azurite.connectionString, "ScanMetadata", {
    allowInsecureConnection: true,
  });
});
afterAll(() => azurite?.stop());

function result(overrides: Partial<ScanCompleted>): ScanCompleted {
  return {
    schemaVersion: 1,
    scanId: "0d7c5a39-0c62-4b8a-8d0e-8b7f0d6c9a11",
    requestId: "5b0c1c1e-3f5e-4a57-9f3e-0a4bb1a7d2c1",
    image: parseImageRef(`contosoprod.azurecr.io/checkout/api:2.4.1@${DIGEST}`),
    sources: [{ kind: "manual" }],
    status: "succeeded",
    attempt: 1,
    startedAt: "2025-03-14T09:22:00.000Z",
    finishedAt: "2025-03-14T09:23:30.000Z",
    durationMs: 90_000,
    scanner: { name: "qscanner", version: "4.8.0-2", mode: "get-report" },
    vulnerabilities: { critical: 1, high: 2, medium: 3, low: 4, informational: 5, total: 15 },
    ...overrides,
  };
}

/** Writes a result the way the recorder does: every row the image is known by. */
async function record(scan: ScanCompleted): Promise<void> {
  for (const key of imageRecordKeys(scan.image)) {
    const current = await table.getEntity(key.partitionKey, key.rowKey).catch(() => undefined);
    const change = applyScanToMetadata(current as never, scan, key);
    if (change.entity) await table.upsertEntity(change.entity, "Replace");
  }
}

describe("scan cache reader on Table Storage", () => {
  it("answers 'never scanned' before the recorder has created its table", async () => {
    const reader = new TableScanCacheReader(table);
    expect(await reader.lastSuccessfulScan(parseImageRef("docker.io/library/nginx:1.27"))).toBeUndefined();
    expect(await reader.reachable()).toBe(true);
  });

  it("finds the last success by tag and by digest, with its counts and qscanner version", async () => {
    await table.createTable();
    await record(result({}));
    const reader = new TableScanCacheReader(table);
    const expected = {
      finishedAt: new Date("2025-03-14T09:23:30.000Z"),
      digest: DIGEST,
      scannerVersion: "4.8.0-2",
      vulnerabilities: { critical: 1, high: 2, medium: 3, low: 4, informational: 5, total: 15 },
    };
    expect(
      await reader.lastSuccessfulScan(parseImageRef("contosoprod.azurecr.io/checkout/api:2.4.1")),
    ).toEqual(expected);
    expect(
      await reader.lastSuccessfulScan(parseImageRef(`contosoprod.azurecr.io/checkout/api@${DIGEST}`)),
    ).toEqual(expected);
  });

  it("does not count a failed scan as cached", async () => {
    await record(
      result({
        scanId: "1d7c5a39-0c62-4b8a-8d0e-8b7f0d6c9a12",
        image: parseImageRef("contosoprod.azurecr.io/broken/app:1"),
        status: "failed",
        vulnerabilities: undefined,
        error: { class: "ImageNotFound", message: "manifest unknown" },
      }),
    );
    const reader = new TableScanCacheReader(table);
    expect(
      await reader.lastSuccessfulScan(parseImageRef("contosoprod.azurecr.io/broken/app:1")),
    ).toBeUndefined();
  });

  it("reports Storage as unreachable, and fails lookups, when nothing answers", async () => {
    const client = TableClient.fromConnectionString(
      await storageDownConnectionString(azurite.connectionString),
      "ScanMetadata",
      { allowInsecureConnection: true, retryOptions: { maxRetries: 0 } },
    );
    const reader = new TableScanCacheReader(client);
    expect(await reader.reachable()).toBe(false);
    await expect(reader.lastSuccessfulScan(parseImageRef("nginx"))).rejects.toThrow();
  });
});
