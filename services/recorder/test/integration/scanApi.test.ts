import type { RunningAzurite } from "@qcs/emulators";
import { parseImageRef, type ScanCompleted } from "@qcs/shared";
import { createLogger, createServiceServer, startTelemetry, type Telemetry } from "@qcs/shared/runtime";
import { sharedAzurite } from "@qcs/test-support/azurite";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TableScanRecords } from "../../src/adapters/tableStorage/tableScanRecords.ts";
import { registerScanApi } from "../../src/api/scanApi.ts";
import { recordScan } from "../../src/core/recordScan.ts";
import { coverageReport, tableRecords } from "../support/azurite.ts";
import { completedScan, DIGEST, failedScan } from "../support/scans.ts";

const API_KEY = "test-key-0123456789-abcdefghijklmnop";
const auth = { authorization: `Bearer ${API_KEY}` };
const logger = createLogger({ name: "recorder-test", level: "silent" });

async function buildApp(
  connectionString: string,
  records: TableScanRecords,
  telemetry: Telemetry,
  apiKey: string | undefined,
  options: { rateLimitPerMinute?: number; statsCacheMs?: number } = {},
) {
  const app = createServiceServer({ logger, telemetry });
  await registerScanApi(app, {
    reader: records,
    apiKey,
    version: "test",
    rateLimitPerMinute: options.rateLimitPerMinute ?? 10_000,
    statsCacheMs: options.statsCacheMs ?? 0,
    coverage: coverageReport(connectionString, records, { workloadsTable: "WorkloadsNone" }),
    coverageCacheSeconds: 0,
  });
  await app.ready();
  return app;
}

describe("scan API", () => {
  let azurite: RunningAzurite;
  let records: TableScanRecords;
  let telemetry: Telemetry;
  let app: FastifyInstance;
  const scans: ScanCompleted[] = [];

  beforeAll(async () => {
    azurite = await sharedAzurite();
    ({ records } = await tableRecords(azurite.connectionString));
    telemetry = startTelemetry({ serviceName: "recorder-test", env: {} });
    const at = (hour: number) => `2025-03-14T${String(hour).padStart(2, "0")}:00:00.000Z`;
    scans.push(
      completedScan({ finishedAt: at(8) }),
      failedScan({ finishedAt: at(9) }),
      completedScan({ image: parseImageRef("nginx:1.27"), finishedAt: at(10) }),
      failedScan({ image: parseImageRef("docker.io/library/redis:7"), finishedAt: at(11) }),
      completedScan({ image: parseImageRef("ghcr.io/acme/api:3"), finishedAt: at(12) }),
    );
    for (const scan of scans) await recordScan(records, scan);
    app = await buildApp(azurite.connectionString, records, telemetry, API_KEY);
  });
  afterAll(async () => {
    await app?.close();
    await telemetry?.shutdown();
    await azurite?.stop();
  });

  const get = (url: string, headers: Record<string, string> = auth) =>
    app.inject({ method: "GET", url, headers });

  describe("authentication", () => {
    it("refuses /api/* without a bearer key, saying how to authenticate", async () => {
      const response = await get("/api/scans", {});
      expect(response.statusCode).toBe(401);
      expect(response.headers["content-type"]).toMatch(/^application\/problem\+json/);
      expect(response.headers["www-authenticate"]).toBe('Bearer realm="recorder"');
      expect(response.json()).toMatchObject({ type: "about:blank", title: "Unauthorized", status: 401 });
    });

    it("refuses a wrong key as an invalid token", async () => {
      const response = await get("/api/stats", { authorization: "Bearer not-the-key" });
      expect(response.statusCode).toBe(401);
      expect(response.headers["www-authenticate"]).toContain('error="invalid_token"');
    });

    it("leaves health, metrics and the OpenAPI document open", async () => {
      expect((await get("/healthz", {})).statusCode).toBe(200);
      expect((await get("/metrics", {})).statusCode).toBe(200);
      expect((await get("/api/openapi.json", {})).statusCode).toBe(200);
    });

    it("answers 503 on every data route when no key is configured", async () => {
      const open = await buildApp(azurite.connectionString, records, telemetry, undefined);
      try {
        const response = await open.inject({ url: "/api/scans", headers: auth });
        expect(response.statusCode).toBe(503);
        expect(response.json().detail).toContain("RECORDER_API_KEY");
        expect((await open.inject({ url: "/api/openapi.json" })).statusCode).toBe(200);
      } finally {
        await open.close();
      }
    });
  });

  describe("GET /api/scans", () => {
    it("lists the latest state per image by registry and repository, each image once", async () => {
      const response = await get("/api/scans");
      expect(response.statusCode).toBe(200);
      const body = response.json();
      expect(body.items.map((item: { ref: string }) => item.ref)).toEqual([
        "docker.io/library/nginx:1.27",
        "docker.io/library/redis:7",
        "ghcr.io/acme/api:3",
        `myreg.azurecr.io/payments/invoice-worker@${DIGEST}`,
      ]);
      expect(body.continuation).toBeUndefined();
      expect(body.items[3]).toMatchObject({
        status: "failed",
        scanCount: 2,
        error: { class: "ScanTimeout" },
        vulnerabilities: { critical: 1, total: 15 },
        lastSuccessAt: "2025-03-14T08:00:00.000Z",
        resourceIds: [expect.stringContaining("ci-invoice-worker")],
      });
    });

    it("filters by status, registry and time", async () => {
      const refs = async (query: string) =>
        (await get(`/api/scans?${query}`)).json().items.map((item: { ref: string }) => item.ref);
      expect(await refs("status=failed")).toEqual([
        "docker.io/library/redis:7",
        `myreg.azurecr.io/payments/invoice-worker@${DIGEST}`,
      ]);
      expect(await refs("registry=docker.io")).toEqual([
        "docker.io/library/nginx:1.27",
        "docker.io/library/redis:7",
      ]);
      expect(await refs("since=2025-03-14T10:30:00Z")).toEqual([
        "docker.io/library/redis:7",
        "ghcr.io/acme/api:3",
      ]);
    });

    it("pages with continuation tokens without repeating or skipping", async () => {
      const seen: string[] = [];
      let url = "/api/scans?limit=3";
      for (let pages = 0; pages < 5; pages += 1) {
        const body = (await get(url)).json();
        seen.push(...body.items.map((item: { ref: string }) => item.ref));
        if (!body.continuation) break;
        url = `/api/scans?limit=3&continuation=${encodeURIComponent(body.continuation)}`;
      }
      expect(seen).toHaveLength(4);
      expect(new Set(seen).size).toBe(4);
    });

    it("rejects invalid parameters with a problem naming each of them", async () => {
      const response = await get("/api/scans?limit=0&status=exploded&since=yesterday");
      expect(response.statusCode).toBe(400);
      expect(response.headers["content-type"]).toMatch(/^application\/problem\+json/);
      const fields = response.json().errors.map((error: { field: string }) => error.field);
      expect(fields).toEqual(expect.arrayContaining(["limit", "status", "since"]));
    });

    it("rejects a continuation token it did not issue", async () => {
      const response = await get("/api/scans?continuation=bm90LWEtdG9rZW4");
      expect(response.statusCode).toBe(400);
      expect(response.json().errors[0]).toMatchObject({ field: "continuation" });
    });
  });

  describe("GET /api/images/:ref", () => {
    it("finds an image by the reference as deployed, with its history", async () => {
      const response = await get("/api/images/nginx:1.27");
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({
        ref: "docker.io/library/nginx:1.27",
        latest: { status: "succeeded", scanCount: 1 },
        history: { items: [{ scanId: scans[2]?.scanId, scanner: { name: "qscanner" } }] },
      });
    });

    it("finds a result recorded with tag and digest by either, slashes escaped or not", async () => {
      const byDigest = await get(`/api/images/myreg.azurecr.io/payments/invoice-worker@${DIGEST}`);
      const byTag = await get(
        `/api/images/${encodeURIComponent("myreg.azurecr.io/payments/invoice-worker:2.4.1")}`,
      );
      for (const response of [byDigest, byTag]) {
        expect(response.statusCode).toBe(200);
        expect(response.json().latest).toMatchObject({ status: "failed", lastScanId: scans[1]?.scanId });
        expect(response.json().history.items.map((item: { scanId: string }) => item.scanId)).toEqual([
          scans[1]?.scanId,
          scans[0]?.scanId,
        ]);
      }
    });

    it("pages the history", async () => {
      const first = (await get("/api/images/myreg.azurecr.io/payments/invoice-worker:2.4.1?limit=1")).json();
      expect(first.history.items).toHaveLength(1);
      const next = await get(
        `/api/images/myreg.azurecr.io/payments/invoice-worker:2.4.1?limit=1&continuation=${first.history.continuation}`,
      );
      expect(next.json().history.items[0].scanId).toBe(scans[0]?.scanId);
    });

    it("answers 404 for an image never scanned and 400 for a string that is no reference", async () => {
      const missing = await get("/api/images/busybox:1");
      expect(missing.statusCode).toBe(404);
      expect(missing.json().detail).toContain("docker.io/library/busybox:1");
      const invalid = await get("/api/images/-rf");
      expect(invalid.statusCode).toBe(400);
      expect(invalid.json().errors[0]).toMatchObject({ in: "path", field: "ref" });
    });
  });

  it("GET /api/history lists every result newest first", async () => {
    const body = (await get("/api/history?limit=10")).json();
    expect(body.items.map((item: { scanId: string }) => item.scanId)).toEqual(
      [...scans].reverse().map((s) => s.scanId),
    );
  });

  it("GET /api/stats counts images by status and adds up findings", async () => {
    expect((await get("/api/stats")).json()).toEqual({
      images: 4,
      byStatus: { succeeded: 2, failed: 2, skipped: 0 },
      vulnerabilities: { critical: 3, high: 6, medium: 9, low: 12, informational: 15, total: 45 },
      lastScanAt: "2025-03-14T12:00:00.000Z",
      computedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
  });

  it("answers unknown API routes with a problem document", async () => {
    const response = await get("/api/nothing");
    expect(response.statusCode).toBe(404);
    expect(response.headers["content-type"]).toMatch(/^application\/problem\+json/);
  });

  it("serves an OpenAPI 3 document describing every route and the bearer scheme", async () => {
    const document = (await get("/api/openapi.json", {})).json();
    expect(document.openapi).toMatch(/^3\./);
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(["/api/scans", "/api/images/{ref}", "/api/history", "/api/stats"]),
    );
    expect(document.components.securitySchemes.apiKey).toMatchObject({ type: "http", scheme: "bearer" });
    expect(document.paths["/api/images/{ref}"].get.parameters).toContainEqual(
      expect.objectContaining({ in: "path", name: "ref", required: true }),
    );
    expect(document.paths["/api/scans"].get.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(["status", "registry", "since", "limit", "continuation"]),
    );
  });

  it("answers over a real socket", async () => {
    const server = await buildApp(azurite.connectionString, records, telemetry, API_KEY);
    try {
      const address = await server.listen({ host: "127.0.0.1", port: 0 });
      const ok = await fetch(`${address}/api/stats`, { headers: auth });
      expect(ok.status).toBe(200);
      expect(((await ok.json()) as { images: number }).images).toBe(4);
      const refused = await fetch(`${address}/api/stats`);
      expect(refused.status).toBe(401);
      expect(refused.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    } finally {
      await server.close();
    }
  });
});
