#!/usr/bin/env node
// Coverage at the size: 10,000 workloads running 3,000 distinct images, against Azurite.
// Rows are seeded directly (ScanMetadata as the recorder writes it, Workloads in the shared contract).
// Prints: the baseline (listing both tables with @azure/data-tables and nothing else), one reading
// plus computation (what each COVERAGE_CACHE_SECONDS period costs), the pure computation alone, and
// GET /api/coverage latency over a socket with a warm and a cold cache. Bounded; asserts nothing.
import { randomUUID } from "node:crypto";
import { TableClient } from "@azure/data-tables";
import { startAzurite } from "@qcs/emulators";
import { type ScanMetadataEntity, sweepMarkerEntity } from "@qcs/shared";
import { createLogger, createServiceServer, startTelemetry } from "@qcs/shared/runtime";
import { TableScanRecords } from "../services/recorder/src/adapters/tableStorage/tableScanRecords.ts";
import { TableWorkloads } from "../services/recorder/src/adapters/tableStorage/tableWorkloads.ts";
import { registerScanApi } from "../services/recorder/src/api/scanApi.ts";
import { computeCoverage } from "../services/recorder/src/core/coverage.ts";
import { CoverageReport } from "../services/recorder/src/core/coverageReport.ts";
import {
  IMAGES,
  metadataRow,
  percentile,
  REQUESTS,
  SUBSCRIPTIONS,
  seed,
  timed,
  WORKLOADS,
  workloadRow,
} from "./support/coverageData.ts";

const API_KEY = "bench-coverage-key-0123456789abcdefghij";
const logger = createLogger({ name: "bench", level: "silent" });
const onRefreshFailed = (error: unknown) => console.error("coverage reading failed:", error);

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
