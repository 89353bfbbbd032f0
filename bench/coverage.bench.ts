#!/usr/bin/env node
// Coverage at the size: 10,000 workloads running 3,000 distinct images, against Azurite.
// Rows are seeded directly (ScanMetadata as the recorder writes it, Workloads in the shared contract).
// Prints: the baseline (listing both tables with @azure/data-tables and nothing else), one reading
// plus computation (what each COVERAGE_CACHE_SECONDS period costs), the pure computation alone, and
// GET /api/coverage latency over a socket with a warm and a cold cache. Bounded; asserts nothing.
import { randomUUID } from "node:crypto";
import { TableClient, type TransactionAction } from "@azure/data-tables";
import { startAzurite } from "@qcs/emulators";
import {
  parseImageRef,
  type ScanMetadataEntity,
  scanCacheKey,
  sweepMarkerEntity,
  type WorkloadEntity,
  workloadKey,
} from "@qcs/shared";
import { createLogger, createServiceServer, startTelemetry } from "@qcs/shared/runtime";
import { TableScanRecords } from "../services/recorder/src/adapters/tableStorage/tableScanRecords.ts";
import { TableWorkloads } from "../services/recorder/src/adapters/tableStorage/tableWorkloads.ts";
import { registerScanApi } from "../services/recorder/src/api/scanApi.ts";
import { computeCoverage } from "../services/recorder/src/core/coverage.ts";
import { CoverageReport } from "../services/recorder/src/core/coverageReport.ts";

const WORKLOADS = Number(process.env.BENCH_WORKLOADS ?? 10_000);
const IMAGES = Number(process.env.BENCH_IMAGES ?? 3_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 50);
const SUBSCRIPTIONS = ["aaaaaaaa-0000-4000-8000-000000000001", "bbbbbbbb-0000-4000-8000-000000000002"];
const API_KEY = "bench-coverage-key-0123456789abcdefghij";
const logger = createLogger({ name: "bench", level: "silent" });
const HOUR = 3_600_000;
const onRefreshFailed = (error: unknown) => console.error("coverage reading failed:", error);

const imageRef = (index: number) => parseImageRef(`myreg.azurecr.io/team/app-${index}:1.${index % 7}`);

/** 90 % of images have a row: of those, 70 % succeeded recently, 15 % long ago, 15 % last failed. */
function metadataRow(index: number, now: number): ScanMetadataEntity | undefined {
  if (index % 10 === 9) return undefined;
  const image = imageRef(index);
  const key = scanCacheKey(image);
  const kind = index % 20;
  const successAt = new Date(now - (kind < 14 ? 2 : 72) * HOUR);
  const failed = kind >= 17;
  return {
    partitionKey: key.partitionKey,
    rowKey: key.rowKey,
    Ref: key.ref,
    Registry: key.registry,
    Repository: key.repository,
    Tag: image.tag,
    Alias: false,
    Status: failed ? "failed" : "succeeded",
    LastScanId: randomUUID(),
    LastScanAt: failed ? new Date(now - HOUR) : successAt,
    LastSeenAt: successAt,
    LastSuccessAt: successAt,
    ScanCount: 1,
    VulnCritical: index % 3,
    VulnHigh: index % 5,
    VulnMedium: 1,
    VulnLow: 1,
    VulnInformational: 0,
    VulnTotal: 2 + (index % 3) + (index % 5),
    ...(failed ? { ErrorClass: "ScanTimeout", ErrorMessage: "qscanner ran longer than 1800 s" } : {}),
    ResourceIds: "[]",
    RecentScanIds: "",
  };
}

function workloadRow(index: number, now: Date): WorkloadEntity {
  const subscriptionId = SUBSCRIPTIONS[index % SUBSCRIPTIONS.length] as string;
  const name = `app-${index}`;
  const resourceId = `/subscriptions/${subscriptionId}/resourceGroups/rg-${index % 40}/providers/Microsoft.App/containerApps/${name}`;
  // One to three containers; every image runs somewhere.
  const refs = [index % IMAGES, (index * 7 + 1) % IMAGES, (index * 13 + 2) % IMAGES].slice(
    0,
    1 + (index % 3),
  );
  return {
    ...workloadKey(resourceId, subscriptionId),
    ResourceId: resourceId,
    SubscriptionId: subscriptionId,
    ResourceGroup: `rg-${index % 40}`,
    Name: name,
    Kind: "aca",
    Images: JSON.stringify(
      refs.map((ref, c) => ({ container: `c${c}`, ref: imageRef(ref).ref, init: false })),
    ),
    FirstSeenAt: now,
    LastSeenAt: now,
    SeenBy: "sweep",
  };
}

/** Batch transactions: same partition, at most 100 actions each. */
async function seed(table: TableClient, rows: Array<{ partitionKey: string }>): Promise<void> {
  const byPartition = new Map<string, TransactionAction[]>();
  for (const row of rows) {
    const list = byPartition.get(row.partitionKey) ?? [];
    list.push(["upsert", row as never]);
    byPartition.set(row.partitionKey, list);
  }
  for (const actions of byPartition.values()) {
    for (let index = 0; index < actions.length; index += 100)
      await table.submitTransaction(actions.slice(index, index + 100));
  }
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await work();
  return [value, performance.now() - started];
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

const azurite = await startAzurite();
const telemetry = startTelemetry({ serviceName: "bench", env: {} });
const apps: Array<{ close(): Promise<unknown> }> = [];
try {
  const suffix = randomUUID().replaceAll("-", "").slice(0, 8);
  const client = (name: string) =>
    TableClient.fromConnectionString(azurite.connectionString, `${name}${suffix}`, {
      allowInsecureConnection: true,
    });
  const metadata = client("ScanMetadata");
  const workloads = client("Workloads");
  await Promise.all([metadata.createTable(), workloads.createTable(), client("ScanHistory").createTable()]);
  const now = Date.now();
  const metadataRows = Array.from({ length: IMAGES }, (_, i) => metadataRow(i, now)).filter(
    (row): row is ScanMetadataEntity => row !== undefined,
  );
  const [, seedMs] = await timed(async () => {
    await seed(metadata, metadataRows);
    await seed(
      workloads,
      Array.from({ length: WORKLOADS }, (_, i) => workloadRow(i, new Date(now))),
    );
    await workloads.upsertEntity(sweepMarkerEntity(new Date(now)));
  });
  console.log(
    `seeded ${WORKLOADS} workloads over ${SUBSCRIPTIONS.length} subscriptions running ${IMAGES} images, ` +
      `${metadataRows.length} ScanMetadata rows, in ${(seedMs / 1000).toFixed(1)} s (batch transactions)`,
  );

  const runs = 3;
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  const baseline: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    const [, ms] = await timed(async () => {
      await Promise.all(
        [metadata, workloads].map(async (table) => {
          for await (const _ of table.listEntities()) {
            // listing only
          }
        }),
      );
    });
    baseline.push(ms);
  }

  const records = new TableScanRecords({ metadata, history: client("ScanHistory"), logger });
  const tableWorkloads = new TableWorkloads(workloads, logger);
  const reading: number[] = [];
  let totals: unknown;
  for (let run = 0; run < runs; run += 1) {
    const report = new CoverageReport({
      workloads: tableWorkloads,
      states: records,
      sloHours: 30,
      cacheMs: 0,
      onRefreshFailed,
    });
    const [answer, ms] = await timed(() => report.get());
    totals = answer.coverage.totals;
    reading.push(ms);
  }

  const [inventory, latestOf] = await Promise.all([tableWorkloads.inventory(), records.allStates()]);
  const compute: number[] = [];
  for (let run = 0; run < 10; run += 1) {
    const [, ms] = await timed(async () =>
      computeCoverage(inventory, latestOf, { sloHours: 30, now: new Date() }),
    );
    compute.push(ms);
  }

  console.log(`totals: ${JSON.stringify(totals)}`);
  console.log("what                                                        | median ms (of runs)");
  const line = (what: string, values: number[]) =>
    console.log(`${what.padEnd(59)} | ${median(values).toFixed(1).padStart(8)} (${values.length})`);
  line("baseline: list both tables with @azure/data-tables", baseline);
  line("coverage: read both tables + parse + compute (cold cache)", reading);
  line("coverage: computeCoverage alone (pure, in memory)", compute);

  console.log(`\nGET /api/coverage over a socket, ${REQUESTS} sequential requests each`);
  console.log("cache                  | query                          |   p50 ms |   p99 ms");
  for (const cacheMs of [60_000, 0]) {
    const app = createServiceServer({ logger, telemetry });
    await registerScanApi(app, {
      reader: records,
      apiKey: API_KEY,
      version: "bench",
      rateLimitPerMinute: 1_000_000,
      statsCacheMs: 60_000,
      coverage: new CoverageReport({
        workloads: tableWorkloads,
        states: records,
        sloHours: 30,
        cacheMs,
        onRefreshFailed,
      }),
      coverageCacheSeconds: cacheMs / 1000,
    });
    const url = await app.listen({ host: "127.0.0.1", port: 0 });
    apps.push(app);
    for (const query of [
      "limit=100",
      "limit=500&state=failing",
      `subscription=${SUBSCRIPTIONS[1]}&limit=100`,
    ]) {
      const count = cacheMs === 0 ? Math.min(REQUESTS, 10) : REQUESTS;
      // One request to fill the cache, not counted.
      await fetch(`${url}/api/coverage?${query}`, { headers: { authorization: `Bearer ${API_KEY}` } });
      const durations: number[] = [];
      for (let index = 0; index < count; index += 1) {
        const [response, ms] = await timed(() =>
          fetch(`${url}/api/coverage?${query}`, { headers: { authorization: `Bearer ${API_KEY}` } }),
        );
        await response.arrayBuffer();
        if (response.status !== 200)
          throw new Error(`GET /api/coverage?${query} answered ${response.status}`);
        durations.push(ms);
      }
      durations.sort((a, b) => a - b);
      console.log(
        `${(cacheMs === 0 ? "cold (0 s, reads each)" : "warm (60 s)").padEnd(22)} | ${query.slice(0, 30).padEnd(30)} | ${percentile(durations, 0.5).toFixed(1).padStart(8)} | ${percentile(durations, 0.99).toFixed(1).padStart(8)}`,
      );
    }
  }
} finally {
  for (const app of apps) await app.close();
  await telemetry.shutdown();
  await azurite.stop();
}
