#!/usr/bin/env node
// Recorder throughput: ScanCompleted results recorded per second with 1 and 4 concurrent
// handlers. The store path runs against Azurite (Table Storage); the end-to-end path adds the
// Service Bus emulator when it is available. Loopback only, bounded in count; prints numbers.
import { randomUUID } from "node:crypto";
import { TableClient } from "@azure/data-tables";
import { startAzurite } from "@qcs/emulators";
import { createLogger, parseImageRef, type ScanCompleted, ScanCompletedV1 } from "@qcs/shared";
import { TableScanRecords } from "../services/recorder/src/adapters/tableStorage/tableScanRecords.ts";
import { createScanCompletedHandler } from "../services/recorder/src/core/handleScanCompleted.ts";

const RESULTS = Number(process.env.BENCH_RESULTS ?? 400);
const logger = createLogger({ name: "bench", level: "silent" });
const metrics = { resultHandled() {}, storageRetried() {}, deadLettered() {} };

function result(index: number, images: number): ScanCompleted {
  const finishedAt = new Date(Date.UTC(2025, 2, 14) + index * 1000).toISOString();
  return ScanCompletedV1.parse({
    schemaVersion: 1,
    scanId: randomUUID(),
    requestId: randomUUID(),
    image: {
      ...parseImageRef(
        `myreg.azurecr.io/team/app-${index % images}@sha256:${index.toString(16).padStart(64, "0")}`,
      ),
      tag: "1.0",
    },
    sources: [
      {
        kind: "aca",
        resourceId: `/subscriptions/s/resourceGroups/rg/providers/Microsoft.App/containerApps/app-${index % images}`,
        subscriptionId: "s",
        resourceGroup: "rg",
        resourceName: `app-${index % images}`,
      },
    ],
    status: "succeeded",
    attempt: 1,
    startedAt: finishedAt,
    finishedAt,
    durationMs: 60_000,
    scanner: { name: "qscanner", version: "4.8.0-2", mode: "get-report" },
    vulnerabilities: { critical: 0, high: 1, medium: 2, low: 3, informational: 4, total: 10 },
  });
}

async function pool<T>(items: T[], concurrency: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await work(item);
      }
    }),
  );
}

const azurite = await startAzurite();
try {
  console.log(
    `store path (Table Storage on Azurite), ${RESULTS} results each, 5 Table writes + 2 reads per result`,
  );
  console.log("handlers | images | results/s | ms/result (p50 of handler time)");
  for (const images of [RESULTS, 8]) {
    for (const concurrency of [1, 4]) {
      const suffix = randomUUID().replaceAll("-", "").slice(0, 8);
      const table = (name: string) =>
        TableClient.fromConnectionString(azurite.connectionString, `${name}${suffix}`, {
          allowInsecureConnection: true,
        });
      const records = new TableScanRecords({ metadata: table("Meta"), history: table("Hist"), logger });
      await records.ensureTables();
      const handle = createScanCompletedHandler({ store: records, metrics, logger });
      const scans = Array.from({ length: RESULTS }, (_, index) => result(index, images));
      const signal = new AbortController().signal;
      const durations: number[] = [];
      const started = performance.now();
      await pool(scans, concurrency, async (scan) => {
        const t0 = performance.now();
        const settlement = await handle({ body: scan, subject: "ScanCompleted" }, signal);
        durations.push(performance.now() - t0);
        if (settlement.action !== "complete") throw new Error(`not recorded: ${settlement.action}`);
      });
      const seconds = (performance.now() - started) / 1000;
      durations.sort((a, b) => a - b);
      const p50 = durations[Math.floor(durations.length / 2)] ?? 0;
      console.log(
        `${String(concurrency).padStart(8)} | ${String(images === RESULTS ? "all new" : images).padStart(7)} | ${(RESULTS / seconds).toFixed(0).padStart(9)} | ${p50.toFixed(1)}`,
      );
    }
  }
} finally {
  await azurite.stop();
}
