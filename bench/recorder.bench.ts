#!/usr/bin/env node
// Recorder throughput: ScanCompleted results recorded per second with 1 and 4 concurrent
// handlers. The store path runs against Azurite (Table Storage); the end-to-end path adds the
// Service Bus emulator when it is available. Beside them, the raw @azure/data-tables rate of the
// minimal operations one result needs (its history rows and its metadata rows, each written once,
// no reads) against the same Azurite. Loopback only, bounded in count; prints numbers.
import { randomUUID } from "node:crypto";
import { TableClient } from "@azure/data-tables";
import { ServiceBusClient } from "@azure/service-bus";
import { startAzurite, startServiceBusEmulator } from "@qcs/emulators";
import {
  buildScanCompletedMessage,
  imageRecordKeys,
  parseImageRef,
  type ScanCompleted,
  ScanCompletedV1,
} from "@qcs/shared";
import { createLogger, startTelemetry } from "@qcs/shared/runtime";
import { ScanCompletedReceiver } from "../services/recorder/src/adapters/serviceBus/scanCompletedReceiver.ts";
import { TableScanRecords } from "../services/recorder/src/adapters/tableStorage/tableScanRecords.ts";
import { createScanCompletedHandler } from "../services/recorder/src/core/handleScanCompleted.ts";
import { scanHistoryEntities } from "../services/recorder/src/core/scanHistory.ts";
import { applyScanToMetadata } from "../services/recorder/src/core/scanMetadata.ts";

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

async function newRecords(connectionString: string) {
  const suffix = randomUUID().replaceAll("-", "").slice(0, 8);
  const table = (name: string) =>
    TableClient.fromConnectionString(connectionString, `${name}${suffix}`, { allowInsecureConnection: true });
  const records = new TableScanRecords({ metadata: table("Meta"), history: table("Hist"), logger });
  await records.ensureTables();
  return records;
}

const row = (handlers: number, images: string, perSecond: number, extra: string) =>
  console.log(
    `${String(handlers).padStart(8)} | ${images.padStart(7)} | ${perSecond.toFixed(0).padStart(9)} | ${extra}`,
  );

/** Results per second when each result is only its rows, created in parallel with the raw SDK. */
async function rawRate(connectionString: string, concurrency: number): Promise<number> {
  const suffix = randomUUID().replaceAll("-", "").slice(0, 8);
  const table = (name: string) =>
    TableClient.fromConnectionString(connectionString, `${name}${suffix}`, { allowInsecureConnection: true });
  const [metadata, history] = [table("RawMeta"), table("RawHist")];
  await Promise.all([metadata.createTable(), history.createTable()]);
  const scans = Array.from({ length: RESULTS }, (_, index) => result(index, RESULTS));
  const started = performance.now();
  await pool(scans, concurrency, async (scan) => {
    await Promise.all([
      ...scanHistoryEntities(scan).map((entity) => history.createEntity(entity)),
      ...imageRecordKeys(scan.image).map((key) => {
        const entity = applyScanToMetadata(undefined, scan, key).entity;
        return entity ? metadata.createEntity(entity) : undefined;
      }),
    ]);
  });
  return RESULTS / ((performance.now() - started) / 1000);
}

const [azurite, broker] = await Promise.all([startAzurite(), startServiceBusEmulator()]);
const telemetry = startTelemetry({ serviceName: "bench", env: {} });
/** Store path, new images, by handlers; and the raw rate beside it. */
const recorded = new Map<number, number>();
const raw = new Map<number, number>();
/** Pairs of (store, raw) per handler count for the ratio, interleaved so that a load change hits both. */
const PAIRS = 3;

/** Results per second through the handler on a fresh pair of tables, and the p50 per result. */
async function storeRate(concurrency: number, images: number): Promise<{ rate: number; p50: number }> {
  const handle = createScanCompletedHandler({
    store: await newRecords(azurite.connectionString),
    metrics,
    logger,
  });
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
  return { rate: RESULTS / seconds, p50: durations[Math.floor(durations.length / 2)] ?? 0 };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

try {
  console.log(`store path: the handler on Table Storage (Azurite), ${RESULTS} results per row`);
  console.log(
    "handlers |  images | results/s | p50 ms per result (new images: median of 3, each beside a raw run)",
  );
  for (const concurrency of [1, 4]) {
    const store: Array<{ rate: number; p50: number }> = [];
    const rawRates: number[] = [];
    for (let pair = 0; pair < PAIRS; pair += 1) {
      store.push(await storeRate(concurrency, RESULTS));
      rawRates.push(await rawRate(azurite.connectionString, concurrency));
    }
    recorded.set(concurrency, median(store.map((run) => run.rate)));
    raw.set(concurrency, median(rawRates));
    row(
      concurrency,
      "all new",
      recorded.get(concurrency) ?? 0,
      median(store.map((run) => run.p50)).toFixed(1),
    );
  }
  for (const concurrency of [1, 4]) {
    const { rate, p50 } = await storeRate(concurrency, 8);
    row(concurrency, "8", rate, p50.toFixed(1));
  }
  console.log(
    `raw @azure/data-tables, the rows of each result created in parallel, no reads (median of 3): ${[...raw].map(([c, rate]) => `${c} at a time ${rate.toFixed(0)}/s`).join(", ")}`,
  );

  console.log(
    `\nend to end: topic scan-completed -> subscription recorder (emulator) -> receiver -> Azurite`,
  );
  console.log("handlers |  images | results/s | note");
  const client = new ServiceBusClient(broker.connectionString);
  try {
    for (const concurrency of [1, 4]) {
      const scans = Array.from({ length: RESULTS }, (_, index) => result(index, RESULTS));
      const sender = client.createSender("scan-completed");
      for (let index = 0; index < scans.length; index += 100) {
        await sender.sendMessages(scans.slice(index, index + 100).map(buildScanCompletedMessage));
      }
      await sender.close();
      let handled = 0;
      const inner = createScanCompletedHandler({
        store: await newRecords(azurite.connectionString),
        metrics,
        logger,
      });
      const receiver = new ScanCompletedReceiver({
        client,
        topic: "scan-completed",
        subscription: "recorder",
        concurrency,
        handler: async (message, deadline) => {
          const settlement = await inner(message, deadline);
          handled += 1;
          return settlement;
        },
        logger,
        tracer: telemetry.tracer,
        maxLockRenewalMs: 60_000,
      });
      const started = performance.now();
      receiver.start();
      const deadline = Date.now() + 120_000;
      while (handled < RESULTS && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20));
      const seconds = (performance.now() - started) / 1000;
      await receiver.stopIntake();
      await receiver.drain(AbortSignal.timeout(10_000));
      await receiver.close();
      row(
        concurrency,
        "all new",
        handled / seconds,
        handled < RESULTS ? `only ${handled} within 120 s` : "receive, record, complete",
      );
    }
  } finally {
    await client.close();
  }
  // The last line: the handler count where the recorder is furthest from the raw rate.
  const [worst] = [1, 4]
    .map((handlers) => ({ rate: recorded.get(handlers) ?? 0, raw: raw.get(handlers) ?? 1, handlers }))
    .map((at) => ({ ...at, ratio: at.rate / at.raw }))
    .sort((a, b) => a.ratio - b.ratio);
  for (const handlers of [1, 4]) {
    const rate = recorded.get(handlers) ?? 0;
    console.log(`${handlers} handler(s): ratio ${(rate / (raw.get(handlers) ?? 1)).toFixed(2)}`);
  }
  console.log(
    `recorder: ${worst?.rate.toFixed(0)} results/s; raw ${worst?.raw.toFixed(0)}/s; ratio ${worst?.ratio.toFixed(2)}`,
  );
} finally {
  await telemetry.shutdown();
  await broker.close();
  await azurite.stop();
}
