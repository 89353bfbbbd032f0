#!/usr/bin/env node
// The status page at the size: 10,000 workloads running 3,000 images (bench/support/
// coverageData.ts), plus one recorded result per image within the last 24 h in ScanHistory (15 %
// failed), seeded in Azurite. Each page is asked REQUESTS times over a socket with a session cookie and
// warm caches (coverage, statistics and failures read once a minute, as configured by default), beside
// the /api/* call that answers the same question in the same run. Bounded; asserts nothing.
import { randomUUID } from "node:crypto";
import { TableClient } from "@azure/data-tables";
import { startAzurite } from "@qcs/emulators";
import { ScanCompletedV1, type ScanMetadataEntity, sweepMarkerEntity } from "@qcs/shared";
import { createLogger, createServiceServer, startTelemetry } from "@qcs/shared/runtime";
import { TableScanRecords } from "../services/recorder/src/adapters/tableStorage/tableScanRecords.ts";
import { TableWorkloads } from "../services/recorder/src/adapters/tableStorage/tableWorkloads.ts";
import { registerScanApi } from "../services/recorder/src/api/scanApi.ts";
import { CoverageReport } from "../services/recorder/src/core/coverageReport.ts";
import { RecorderQueries } from "../services/recorder/src/core/recorderQueries.ts";
import { scanHistoryEntities } from "../services/recorder/src/core/scanHistory.ts";
import { registerStatusPages } from "../services/recorder/src/pages/statusPages.ts";
import {
  IMAGES,
  imageRef,
  lastFailed,
  metadataRow,
  percentile,
  REQUESTS,
  seed,
  timed,
  WORKLOADS,
  workloadRow,
} from "./support/coverageData.ts";

const API_KEY = "bench-status-page-key-0123456789abcdefgh";
const logger = createLogger({ name: "bench", level: "silent" });
const CACHE_MS = 60_000;

/** One result per image within the last day, as the recorder's history rows for it. */
function historyRows(index: number, now: number) {
  const failed = lastFailed(index);
  const finishedAt = new Date(now - ((index * 37) % 1_400) * 60_000);
  return scanHistoryEntities(
    ScanCompletedV1.parse({
      schemaVersion: 1,
      scanId: randomUUID(),
      requestId: randomUUID(),
      image: imageRef(index),
      sources: [],
      status: failed ? "failed" : "succeeded",
      attempt: 1,
      startedAt: new Date(finishedAt.getTime() - 60_000).toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationMs: 60_000,
      scanner: { name: "qscanner", version: "4.8.0", mode: "get-report" },
      ...(failed
        ? { error: { class: index % 40 === 37 ? "ImageNotFound" : "ScanTimeout", message: "bench failure" } }
        : { vulnerabilities: { critical: 1, high: 2, medium: 3, low: 4, informational: 0, total: 10 } }),
    }),
  );
}

const azurite = await startAzurite();
const telemetry = startTelemetry({ serviceName: "bench", env: {} });
const app = createServiceServer({ logger, telemetry });
try {
  const suffix = randomUUID().replaceAll("-", "").slice(0, 8);
  const client = (name: string) =>
    TableClient.fromConnectionString(azurite.connectionString, `${name}${suffix}`, {
      allowInsecureConnection: true,
    });
  const [metadata, history, workloads] = [client("ScanMetadata"), client("ScanHistory"), client("Workloads")];
  await Promise.all([metadata.createTable(), history.createTable(), workloads.createTable()]);
  const now = Date.now();
  const [, seedMs] = await timed(async () => {
    await seed(
      metadata,
      Array.from({ length: IMAGES }, (_, i) => metadataRow(i, now)).filter(
        (row): row is ScanMetadataEntity => row !== undefined,
      ),
    );
    await seed(
      workloads,
      Array.from({ length: WORKLOADS }, (_, i) => workloadRow(i, new Date(now))),
    );
    await workloads.upsertEntity(sweepMarkerEntity(new Date(now)));
    await seed(history, Array.from({ length: IMAGES }, (_, i) => historyRows(i, now)).flat());
  });
  console.log(
    `seeded ${WORKLOADS} workloads running ${IMAGES} images, their ScanMetadata rows and ${IMAGES} results of the last 24 h in ${(seedMs / 1000).toFixed(1)} s`,
  );

  const records = new TableScanRecords({ metadata, history, logger });
  const coverage = new CoverageReport({
    workloads: new TableWorkloads(workloads, logger),
    states: records,
    sloHours: 30,
    cacheMs: CACHE_MS,
    onRefreshFailed: (error) => console.error("coverage reading failed:", error),
  });
  const queries = new RecorderQueries({
    reader: records,
    coverage,
    statsCacheMs: CACHE_MS,
    onRefreshFailed: (error) => console.error("reading failed:", error),
  });
  await registerScanApi(app, {
    reader: records,
    apiKey: API_KEY,
    version: "bench",
    rateLimitPerMinute: 1_000_000,
    statsCacheMs: CACHE_MS,
    coverage,
    coverageCacheSeconds: CACHE_MS / 1000,
    queries,
  });
  await registerStatusPages(app, { queries, apiKey: API_KEY, rateLimitPerMinute: 1_000_000 });
  const url = await app.listen({ host: "127.0.0.1", port: 0 });

  const login = await fetch(`${url}/login`, {
    method: "POST",
    body: new URLSearchParams({ key: API_KEY }),
    redirect: "manual",
  });
  const cookie = login.headers.get("set-cookie")?.split(";")[0] ?? "";
  if (login.status !== 303 || !cookie) throw new Error(`login answered ${login.status}`);

  const [{ value: failures }, { coverage: answer }] = await Promise.all([queries.failures(), coverage.get()]);
  console.log(
    `coverage ${JSON.stringify(answer.totals)}; ${failures.failures.length} failed scans in the window of ${failures.scanned} results`,
  );
  const ref = imageRef(17).ref;
  const measure = async (path: string, headers: Record<string, string>) => {
    await (await fetch(`${url}${path}`, { headers })).arrayBuffer(); // fills the caches, not counted
    const durations: number[] = [];
    for (let index = 0; index < REQUESTS; index += 1) {
      const [response, ms] = await timed(() => fetch(`${url}${path}`, { headers }));
      const body = await response.text();
      if (response.status !== 200)
        throw new Error(`GET ${path} answered ${response.status}: ${body.slice(0, 200)}`);
      durations.push(ms);
    }
    durations.sort((a, b) => a - b);
    return { p50: percentile(durations, 0.5), p99: percentile(durations, 0.99) };
  };
  const page = (path: string) => measure(path, { cookie });
  const api = (path: string) => measure(path, { authorization: `Bearer ${API_KEY}` });

  const rows: Array<[string, { p50: number; p99: number }]> = [
    ["/", await page("/")],
    ["/images", await page("/images")],
    ["/images?state=failing&minSeverity=high", await page("/images?state=failing&minSeverity=high")],
    [`/images/<ref>`, await page(`/images/${ref}`)],
    ["/failures", await page("/failures")],
    ["/failures?reason=ImageNotFound", await page("/failures?reason=ImageNotFound")],
    ["api: /api/coverage?limit=50", await api("/api/coverage?limit=50")],
    [`api: /api/images/<ref>`, await api(`/api/images/${ref}`)],
    ["api: /api/failures", await api("/api/failures")],
  ];
  console.log(`\n${REQUESTS} sequential requests each, warm caches (${CACHE_MS / 1000} s)`);
  console.log("path                                       |   p50 ms |   p99 ms");
  for (const [path, { p50, p99 }] of rows) {
    console.log(`${path.padEnd(42)} | ${p50.toFixed(1).padStart(8)} | ${p99.toFixed(1).padStart(8)}`);
  }
  const p50 = (path: string) => rows.find(([name]) => name === path)?.[1].p50.toFixed(1);
  console.log(
    `status page: / ${p50("/")} ms; /images ${p50("/images")} ms; /images/<ref> ${p50("/images/<ref>")} ms; ` +
      `/failures ${p50("/failures")} ms (p50 warm; api baseline ${p50("api: /api/coverage?limit=50")} ms)`,
  );
} finally {
  await app.close();
  await telemetry.shutdown();
  await azurite.stop();
}
