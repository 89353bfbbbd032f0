import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningAzurite, startAzurite } from "@qcs/emulators";
import { imageRecordKeys, parseImageRef } from "@qcs/shared";
import { createLogger } from "@qcs/shared/runtime";
import { sharedAzurite } from "@qcs/test-support/azurite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScanCompletedHandler } from "../../src/core/handleScanCompleted.ts";
import { recordScan } from "../../src/core/recordScan.ts";
import { tableClient, tableRecords } from "../support/azurite.ts";
import { completedScan, DIGEST, failedScan, messageOf } from "../support/scans.ts";

const noMetrics = { resultHandled() {}, storageRetried() {}, deadLettered() {} };

describe("Table Storage scan records (Azurite)", () => {
  let azurite: RunningAzurite;
  beforeAll(async () => {
    azurite = await sharedAzurite();
  });
  afterAll(async () => {
    await azurite?.stop();
  });

  it("records a result so the scanner finds it by digest and by tag with one point read", async () => {
    const { records } = await tableRecords(azurite.connectionString);
    const scan = completedScan();
    expect(await recordScan(records, scan)).toBe("recorded");
    const byDigest = await records.latestOf(
      parseImageRef(`myreg.azurecr.io/payments/invoice-worker@${DIGEST}`),
    );
    const byTag = await records.latestOf(parseImageRef("myreg.azurecr.io/payments/invoice-worker:2.4.1"));
    expect(byDigest).toMatchObject({
      partitionKey: "myreg.azurecr.io",
      rowKey: `payments~2Finvoice-worker@${DIGEST}`,
      Status: "succeeded",
      LastSuccessAt: new Date(scan.finishedAt),
      VulnCritical: 1,
      Alias: false,
    });
    expect(byTag).toMatchObject({
      rowKey: "payments~2Finvoice-worker:2.4.1",
      LastScanId: scan.scanId,
      Alias: true,
    });
  });

  it("leaves the rows untouched when the same result is recorded again", async () => {
    const { records } = await tableRecords(azurite.connectionString);
    const scan = completedScan();
    await recordScan(records, scan);
    const keys = imageRecordKeys(scan.image);
    const before = await Promise.all(keys.map((key) => records.readMetadata(key)));
    expect(await recordScan(records, scan)).toBe("duplicate");
    const after = await Promise.all(keys.map((key) => records.readMetadata(key)));
    expect(after.map((row) => row?.etag)).toEqual(before.map((row) => row?.etag));
    const history = await records.timeline({ limit: 10 });
    expect(history.items).toHaveLength(1);
  });

  it("keeps the newer latest state when an older result arrives later", async () => {
    const { records } = await tableRecords(azurite.connectionString);
    const newer = failedScan({ finishedAt: "2025-03-14T12:00:00.000Z" });
    await recordScan(records, newer);
    expect(await recordScan(records, completedScan({ finishedAt: "2025-03-14T08:00:00.000Z" }))).toBe(
      "outOfOrder",
    );
    const [digestKey] = imageRecordKeys(newer.image);
    expect(digestKey && (await records.latestOf(parseImageRef(digestKey.ref)))).toMatchObject({
      Status: "failed",
      LastScanId: newer.scanId,
      ScanCount: 2,
      LastSuccessAt: new Date("2025-03-14T08:00:00.000Z"),
    });
  });

  it("loses no result when two replicas record the same image at the same time", async () => {
    const first = await tableRecords(azurite.connectionString);
    const second = await tableRecords(azurite.connectionString, first.names);
    const scans = Array.from({ length: 12 }, (_, index) =>
      completedScan({ finishedAt: new Date(Date.UTC(2025, 2, 14, 10, index)).toISOString() }),
    );
    await Promise.all(scans.map((scan, index) => recordScan((index % 2 ? first : second).records, scan)));
    const newest = scans.at(-1);
    for (const key of imageRecordKeys(completedScan().image)) {
      expect(await first.records.latestOf(parseImageRef(key.ref))).toMatchObject({
        ScanCount: 12,
        LastScanId: newest?.scanId,
      });
    }
    const timeline = await first.records.timeline({ limit: 100 });
    expect(timeline.items.map((row) => row.ScanId)).toEqual([...scans].reverse().map((scan) => scan.scanId));
  });

  it("pages the history of one image newest first", async () => {
    const { records } = await tableRecords(azurite.connectionString);
    const scans = Array.from({ length: 5 }, (_, index) =>
      completedScan({ finishedAt: new Date(Date.UTC(2025, 2, 14, 10, index)).toISOString() }),
    );
    for (const scan of scans) await recordScan(records, scan);
    const image = parseImageRef("myreg.azurecr.io/payments/invoice-worker:2.4.1");
    const first = await records.historyOf(image, { limit: 2 });
    const second = await records.historyOf(image, { limit: 2, after: first.after });
    const third = await records.historyOf(image, { limit: 2, after: second.after });
    expect([...first.items, ...second.items, ...third.items].map((row) => row.ScanId)).toEqual(
      [...scans].reverse().map((scan) => scan.scanId),
    );
    expect(third.after).toBeUndefined();
    expect(first.items[0]?.FinishedAt).toEqual(new Date(scans[4]?.finishedAt ?? ""));
  });

  it("lists latest states by registry, status and time, without tag aliases", async () => {
    const { records } = await tableRecords(azurite.connectionString);
    await recordScan(records, completedScan({ finishedAt: "2025-03-14T10:00:00.000Z" }));
    await recordScan(
      records,
      failedScan({
        image: parseImageRef("docker.io/library/nginx:1.27"),
        finishedAt: "2025-03-14T11:00:00.000Z",
      }),
    );
    expect((await records.list({}, { limit: 100 })).items.map((row) => row.Ref).sort()).toEqual([
      "docker.io/library/nginx:1.27",
      `myreg.azurecr.io/payments/invoice-worker@${DIGEST}`,
    ]);
    expect(
      (await records.list({ registry: "docker.io" }, { limit: 100 })).items.map((row) => row.Ref),
    ).toEqual(["docker.io/library/nginx:1.27"]);
    expect(
      (await records.list({ status: "succeeded" }, { limit: 100 })).items.map((row) => row.Registry),
    ).toEqual(["myreg.azurecr.io"]);
    expect(
      (await records.list({ since: new Date("2025-03-14T10:30:00.000Z") }, { limit: 100 })).items,
    ).toHaveLength(1);
  });

  it("pages latest states in storage, each row once, never more rows per page than asked", async () => {
    const { records } = await tableRecords(azurite.connectionString);
    const refs = Array.from({ length: 7 }, (_, index) => `ghcr.io/paging/app-${index}:1`);
    for (const ref of refs) await recordScan(records, completedScan({ image: parseImageRef(ref) }));
    const seen: string[] = [];
    let continuation: string | undefined;
    do {
      const page = await records.list({ registry: "ghcr.io" }, { limit: 3, continuation });
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items.map((row) => row.Ref));
      continuation = page.continuation;
    } while (continuation !== undefined);
    expect(seen).toEqual(refs);
  });

  it("replaces a row of the original system's format instead of failing on it", async () => {
    const { records, names } = await tableRecords(azurite.connectionString);
    const scan = completedScan();
    const [digestKey] = imageRecordKeys(scan.image);
    if (!digestKey) throw new Error("no key");
    await tableClient(azurite.connectionString, names.metadata).createEntity({
      partitionKey: digestKey.partitionKey,
      rowKey: digestKey.rowKey,
      Image: scan.image.ref,
      Status: "UNKNOWN",
    });
    expect(await records.latestOf(parseImageRef(digestKey.ref))).toBeUndefined();
    await recordScan(records, scan);
    expect(await records.latestOf(parseImageRef(digestKey.ref))).toMatchObject({
      Status: "succeeded",
      ScanCount: 1,
    });
  });
});

describe("a Storage outage", () => {
  let folder: string;
  let azurite: RunningAzurite | undefined;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), "recorder-azurite-"));
  });
  afterAll(async () => {
    await azurite?.stop();
    await rm(folder, { recursive: true, force: true });
  });

  it("loses nothing: results handled while Azurite is down are recorded once it is back", async () => {
    azurite = await startAzurite({ location: folder });
    const { ports, connectionString } = azurite;
    const { records } = await tableRecords(connectionString);
    const before = completedScan({ finishedAt: "2025-03-14T10:00:00.000Z" });
    await recordScan(records, before);

    await azurite.stop();
    azurite = undefined;
    let retries = 0;
    const handle = createScanCompletedHandler({
      store: records,
      metrics: {
        ...noMetrics,
        storageRetried: () => {
          retries += 1;
        },
      },
      logger: createLogger({ name: "test", level: "silent" }),
      retry: { initialDelayMs: 50, maxDelayMs: 500, budgetMs: 60_000 },
    });
    const during = [
      failedScan({ finishedAt: "2025-03-14T11:00:00.000Z" }),
      completedScan({ finishedAt: "2025-03-14T12:00:00.000Z" }),
    ];
    const settled = Promise.all(during.map((scan) => handle(messageOf(scan), new AbortController().signal)));
    await expect.poll(() => retries, { timeout: 20_000 }).toBeGreaterThanOrEqual(2);

    azurite = await startAzurite({
      location: folder,
      blobPort: ports.blob,
      queuePort: ports.queue,
      tablePort: ports.table,
    });
    // Either may land first; both are recorded, in whichever order.
    expect((await settled).map((settlement) => settlement.action)).toEqual(["complete", "complete"]);
    const [digestKey] = imageRecordKeys(before.image);
    if (!digestKey) throw new Error("no key");
    expect(await records.latestOf(parseImageRef(digestKey.ref))).toMatchObject({
      ScanCount: 3,
      LastScanId: during[1]?.scanId,
    });
    const timeline = await records.timeline({ limit: 10 });
    expect(timeline.items.map((row) => row.ScanId)).toEqual([
      during[1]?.scanId,
      during[0]?.scanId,
      before.scanId,
    ]);
  });
});
