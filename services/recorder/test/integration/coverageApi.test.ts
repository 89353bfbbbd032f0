/**
 * /api/coverage and the coverage gauges over Azurite: scans recorded as the recorder records them,
 * Workloads rows and the sweep marker seeded in the shared contract's shape, as ingest writes them.
 */
import type { RunningAzurite } from "@qcs/emulators";
import { CoverageSchema, parseImageRef, sweepMarkerEntity } from "@qcs/shared";
import { createLogger, createServiceServer, startTelemetry, type Telemetry } from "@qcs/shared/runtime";
import { sharedAzurite } from "@qcs/test-support/azurite";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerCoverageGauges } from "../../src/adapters/openTelemetry/coverageGauges.ts";
import type { TableScanRecords } from "../../src/adapters/tableStorage/tableScanRecords.ts";
import { registerScanApi } from "../../src/api/scanApi.ts";
import type { CoverageReport } from "../../src/core/coverageReport.ts";
import { recordScan } from "../../src/core/recordScan.ts";
import { coverageReport, tableClient, tableNames, tableRecords, workloadRow } from "../support/azurite.ts";
import { completedScan, failedScan } from "../support/scans.ts";

const API_KEY = "coverage-test-key-0123456789abcdefgh";
const logger = createLogger({ name: "recorder-test", level: "silent" });
const SUB_A = "aaaaaaaa-0000-4000-8000-000000000001";
const SUB_B = "bbbbbbbb-0000-4000-8000-000000000002";
const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000).toISOString();

const CURRENT = "myreg.azurecr.io/team/current:1";
const STALE = "myreg.azurecr.io/team/stale:1";
const FAILING = "myreg.azurecr.io/team/failing:1";
const NEVER = "myreg.azurecr.io/team/never:1";

describe("GET /api/coverage", () => {
  let azurite: RunningAzurite;
  let telemetry: Telemetry;
  let records: TableScanRecords;
  const names = tableNames();
  const apps: FastifyInstance[] = [];

  async function buildApp(report: CoverageReport) {
    const app = createServiceServer({ logger, telemetry });
    await registerScanApi(app, {
      reader: records,
      apiKey: API_KEY,
      version: "test",
      rateLimitPerMinute: 10_000,
      statsCacheMs: 0,
      coverage: report,
      coverageCacheSeconds: 0,
    });
    await app.ready();
    apps.push(app);
    return app;
  }
  const get = async (app: FastifyInstance, url: string) => {
    const response = await app.inject({ url, headers: { authorization: `Bearer ${API_KEY}` } });
    expect(response.statusCode, response.body).toBe(200);
    return CoverageSchema.parse(response.json());
  };

  beforeAll(async () => {
    azurite = await sharedAzurite();
    telemetry = startTelemetry({ serviceName: "recorder-test", env: {} });
    ({ records } = await tableRecords(azurite.connectionString, names));
    for (const scan of [
      completedScan({ image: parseImageRef(CURRENT), finishedAt: hoursAgo(2) }),
      completedScan({ image: parseImageRef(STALE), finishedAt: hoursAgo(48) }),
      completedScan({ image: parseImageRef(FAILING), finishedAt: hoursAgo(72) }),
      failedScan({ image: parseImageRef(FAILING), finishedAt: hoursAgo(1) }),
    ]) {
      await recordScan(records, scan);
    }
    const workloads = tableClient(azurite.connectionString, names.workloads);
    await workloads.createTable();
    for (const row of [
      workloadRow(SUB_A, "one", [CURRENT, STALE]),
      workloadRow(SUB_A, "two", [CURRENT, FAILING]),
      workloadRow(SUB_B, "three", [CURRENT, NEVER]),
    ]) {
      await workloads.createEntity(row);
    }
    await workloads.upsertEntity(sweepMarkerEntity(new Date("2026-12-02T06:00:00.000Z")));
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await telemetry?.shutdown();
    await azurite?.stop();
  });

  it("answers totals of distinct images by state and one item per image, in reference order", async () => {
    const app = await buildApp(
      coverageReport(azurite.connectionString, records, { workloadsTable: names.workloads }),
    );
    const body = await get(app, "/api/coverage");
    expect(body.sloHours).toBe(30);
    expect(body.lastSweepAt).toBe("2026-12-02T06:00:00.000Z");
    expect(body.totals).toEqual({
      workloads: 3,
      images: 4,
      current: 1,
      stale: 1,
      failing: 1,
      neverScanned: 1,
    });
    expect(body.items.map((item) => [item.ref, item.state, item.workloads])).toEqual([
      [CURRENT, "current", 3],
      [FAILING, "failing", 1],
      [NEVER, "neverScanned", 1],
      [STALE, "stale", 1],
    ]);
    expect(body.items[0]).toMatchObject({
      lastStatus: "succeeded",
      vulnerabilities: { critical: 1, high: 2 },
      resources: [
        expect.stringContaining("/one"),
        expect.stringContaining("/two"),
        expect.stringContaining("/three"),
      ].sort(),
      resourcesTruncated: false,
    });
    expect(body.items[1]).toMatchObject({ lastStatus: "failed" });
    expect(body.items[2]?.lastScanAt).toBeUndefined();
    expect(body.next).toBeUndefined();
  });

  it("narrows totals and items to a subscription, items to a state, and pages with `next`", async () => {
    const app = await buildApp(
      coverageReport(azurite.connectionString, records, { workloadsTable: names.workloads }),
    );
    const sub = await get(app, `/api/coverage?subscription=${SUB_B}`);
    expect(sub.totals).toEqual({
      workloads: 1,
      images: 2,
      current: 1,
      stale: 0,
      failing: 0,
      neverScanned: 1,
    });
    const failing = await get(app, "/api/coverage?state=failing");
    expect(failing.items.map((item) => item.ref)).toEqual([FAILING]);
    expect(failing.totals.images).toBe(4);

    const first = await get(app, "/api/coverage?limit=3");
    expect(first.items).toHaveLength(3);
    const second = await get(app, `/api/coverage?limit=3&continuation=${first.next}`);
    expect(second.items.map((item) => item.ref)).toEqual([STALE]);
    expect(second.next).toBeUndefined();
  });

  it("refuses an unknown state and a continuation it did not issue", async () => {
    const app = await buildApp(
      coverageReport(azurite.connectionString, records, { workloadsTable: names.workloads }),
    );
    const auth = { authorization: `Bearer ${API_KEY}` };
    expect((await app.inject({ url: "/api/coverage?state=fine", headers: auth })).statusCode).toBe(400);
    expect((await app.inject({ url: "/api/coverage?continuation=bm9wZQ", headers: auth })).statusCode).toBe(
      400,
    );
  });

  it("answers from one reading for the cache period, then from the next once it is read", async () => {
    let now = Date.now();
    const table = tableNames().workloads;
    const workloads = tableClient(azurite.connectionString, table);
    await workloads.createTable();
    await workloads.createEntity(workloadRow(SUB_A, "one", [CURRENT]));
    const report = coverageReport(azurite.connectionString, records, {
      workloadsTable: table,
      cacheMs: 60_000,
      now: () => now,
    });
    const app = await buildApp(report);
    const before = await get(app, "/api/coverage");
    expect(before.totals.workloads).toBe(1);

    await workloads.createEntity(workloadRow(SUB_A, "two", [NEVER]));
    now += 59_999;
    expect(await get(app, "/api/coverage")).toEqual(before);
    now += 1;
    // Expired: the old reading answers while the next is read.
    expect(await get(app, "/api/coverage")).toEqual(before);
    await expect
      .poll(async () => (await get(app, "/api/coverage")).totals, { timeout: 20_000 })
      .toMatchObject({ workloads: 2, images: 2, neverScanned: 1 });
    expect(Date.parse((await get(app, "/api/coverage")).computedAt)).toBe(now);
  });

  it("is all zeros with lastSweepAt null when Workloads does not exist yet", async () => {
    const app = await buildApp(
      coverageReport(azurite.connectionString, records, { workloadsTable: "WorkloadsMissing" }),
    );
    const body = await get(app, "/api/coverage");
    expect(body).toMatchObject({
      lastSweepAt: null,
      totals: { workloads: 0, images: 0, current: 0, stale: 0, failing: 0, neverScanned: 0 },
      items: [],
    });
  });

  it("exports coverage gauges on /metrics and documents the route in the OpenAPI document", async () => {
    const report = coverageReport(azurite.connectionString, records, { workloadsTable: names.workloads });
    const app = await buildApp(report);
    registerCoverageGauges(telemetry.meter, report, logger);
    const metrics = (await app.inject({ url: "/metrics" })).body;
    expect(metrics).toMatch(/qcs_coverage_images\{[^}]*state="current"[^}]*\} 1/);
    expect(metrics).toMatch(/qcs_coverage_images\{[^}]*state="neverScanned"[^}]*\} 1/);
    expect(metrics).toMatch(/qcs_coverage_workloads(\{[^}]*\})? 3/);
    const document = (await app.inject({ url: "/api/openapi.json" })).json();
    expect(Object.keys(document.paths)).toContain("/api/coverage");
  });
});
