// What the API costs and what it gives away, over Azurite: a page of /api/scans asks storage for
// one page, /api/stats counts the table once per cache window, failed keys are rate limited, and
// an error from storage never reaches the client.
import type { RunningAzurite } from "@qcs/emulators";
import { parseImageRef } from "@qcs/shared";
import { createLogger, createServiceServer, startTelemetry, type Telemetry } from "@qcs/shared/runtime";
import { TcpRelay } from "@qcs/test-support";
import { sharedAzurite } from "@qcs/test-support/azurite";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TableScanRecords } from "../../src/adapters/tableStorage/tableScanRecords.ts";
import { registerScanApi } from "../../src/api/scanApi.ts";
import { recordScan } from "../../src/core/recordScan.ts";
import { coverageReport, tableClient, tableNames, tableRecords } from "../support/azurite.ts";
import { completedScan } from "../support/scans.ts";

const API_KEY = "limits-test-key-0123456789abcdefghij";
const auth = { authorization: `Bearer ${API_KEY}` };
const logger = createLogger({ name: "recorder-test", level: "silent" });

let azurite: RunningAzurite;
let telemetry: Telemetry;
const names = tableNames();
/** Every request line the recorder sends to Table Storage, in order. */
const requests: string[] = [];
let relay: TcpRelay;
const apps: FastifyInstance[] = [];

beforeAll(async () => {
  azurite = await sharedAzurite();
  telemetry = startTelemetry({ serviceName: "recorder-test", env: {} });
  const { records } = await tableRecords(azurite.connectionString, names);
  for (let index = 0; index < 30; index += 1) {
    await recordScan(records, completedScan({ image: parseImageRef(`ghcr.io/limits/app-${index}:1`) }));
  }
  relay = new TcpRelay(
    { host: "127.0.0.1", port: azurite.ports.table },
    {
      clientFilter: () => (chunk) => {
        requests.push(...(chunk.toString("latin1").match(/(?:GET|POST|PUT|PATCH|MERGE|DELETE) \S+/g) ?? []));
        return { forward: chunk, cut: false };
      },
    },
  );
  await relay.start();
});

afterAll(async () => {
  for (const app of apps) await app.close();
  await relay?.close();
  await telemetry?.shutdown();
  await azurite?.stop();
});

async function api(
  connectionString: string,
  options: { rateLimitPerMinute?: number; statsCacheMs?: number },
) {
  const records = new TableScanRecords({
    metadata: tableClient(connectionString, names.metadata),
    history: tableClient(connectionString, names.history),
    logger,
  });
  const app = createServiceServer({ logger, telemetry });
  await registerScanApi(app, {
    reader: records,
    apiKey: API_KEY,
    version: "test",
    rateLimitPerMinute: options.rateLimitPerMinute ?? 10_000,
    statsCacheMs: options.statsCacheMs ?? 0,
    coverage: coverageReport(connectionString, records, { workloadsTable: names.workloads }),
    coverageCacheSeconds: 0,
  });
  apps.push(app);
  return app;
}

const throughRelay = () =>
  azurite.connectionString.replace(
    /TableEndpoint=http:\/\/[^/;]+/,
    `TableEndpoint=http://127.0.0.1:${relay.port}`,
  );

const metadataQueries = () =>
  requests.filter((line) => line.startsWith("GET") && line.includes(`/${names.metadata}()`));

describe("scan API limits", () => {
  it("reads one page of storage per page of /api/scans, and every image once over all pages", async () => {
    const app = await api(throughRelay(), {});
    requests.length = 0;
    const first = (await app.inject({ url: "/api/scans?limit=5", headers: auth })).json();
    expect(first.items).toHaveLength(5);
    expect(first.continuation).toEqual(expect.any(String));
    expect(metadataQueries()).toHaveLength(1);
    expect(metadataQueries()[0]).toContain("$top=5");

    const seen = first.items.map((item: { ref: string }) => item.ref);
    let continuation: string | undefined = first.continuation;
    while (continuation) {
      const page = (
        await app.inject({
          url: `/api/scans?limit=5&continuation=${encodeURIComponent(continuation)}`,
          headers: auth,
        })
      ).json();
      seen.push(...page.items.map((item: { ref: string }) => item.ref));
      continuation = page.continuation;
    }
    expect(seen).toHaveLength(30);
    expect(new Set(seen).size).toBe(30);
  });

  it("counts the table for /api/stats once per cache window", async () => {
    const app = await api(throughRelay(), { statsCacheMs: 60_000 });
    requests.length = 0;
    const first = (await app.inject({ url: "/api/stats", headers: auth })).json();
    const second = (await app.inject({ url: "/api/stats", headers: auth })).json();
    expect(first.images).toBe(30);
    expect(second).toEqual(first);
    expect(metadataQueries()).toHaveLength(1);
  });

  it("answers 429 with Retry-After once an address exceeds its requests per minute, wrong keys included", async () => {
    const app = await api(azurite.connectionString, { rateLimitPerMinute: 5 });
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 6; attempt += 1) {
      const response = await app.inject({
        url: "/api/stats",
        headers: { authorization: `Bearer guess-${attempt}` },
      });
      statuses.push(response.statusCode);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    const limited = await app.inject({ url: "/api/stats", headers: auth });
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
    expect(limited.headers["content-type"]).toMatch(/^application\/problem\+json/);
  });

  it("answers 500 without the storage error's text when storage refuses the recorder", async () => {
    // A wrong account key: Azurite answers 403 AuthorizationFailure with its request ID.
    const wrongKey = azurite.connectionString.replace(
      /AccountKey=[^;]+/,
      `AccountKey=${Buffer.from("x".repeat(64)).toString("base64")}`,
    );
    const app = await api(wrongKey, {});
    for (const url of ["/api/scans", "/api/stats", "/api/images/ghcr.io/limits/app-1:1", "/api/history"]) {
      const response = await app.inject({ url, headers: auth });
      expect(response.statusCode, url).toBe(500);
      expect(response.json()).toEqual({
        type: "about:blank",
        title: "Internal Server Error",
        status: 500,
        detail: "the request could not be answered",
      });
    }
  });
});
