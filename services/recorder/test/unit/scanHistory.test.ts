import { parseImageRef } from "@qcs/shared";
import { describe, expect, it } from "vitest";
import {
  HISTORY_TIMELINE_PARTITION,
  historyRowKey,
  scanHistoryEntities,
} from "../../src/core/scanHistory.ts";
import { DIGEST, OTHER_DIGEST, RESOURCE, scan } from "../support/ruleScans.ts";

describe("scanHistoryEntities", () => {
  it("writes a timeline row and one row per reference, all keyed by the scan", () => {
    const result = scan();
    const rows = scanHistoryEntities(result);
    expect(rows.map((row) => row.partitionKey)).toEqual([
      HISTORY_TIMELINE_PARTITION,
      `mcr.microsoft.com~2Fdotnet~2Fruntime@${DIGEST}`,
      "mcr.microsoft.com~2Fdotnet~2Fruntime:8.0",
    ]);
    const rowKey = historyRowKey(new Date(result.finishedAt), result.scanId);
    expect(rows.every((row) => row.rowKey === rowKey)).toBe(true);
    expect(rows[0]).toMatchObject({
      ScanId: result.scanId,
      Ref: result.image.ref,
      Tag: "8.0",
      Digest: DIGEST,
      Status: "succeeded",
      FinishedAt: new Date(result.finishedAt),
      VulnHigh: 2,
      SourceCount: 1,
    });
    expect(scanHistoryEntities(result)).toEqual(rows);
  });

  it("sorts newer scans first in a range query", () => {
    const older = historyRowKey(new Date("2025-03-14T10:00:00Z"), "b");
    const newer = historyRowKey(new Date("2025-03-14T10:00:00.001Z"), "a");
    const muchNewer = historyRowKey(new Date("2099-01-01T00:00:00Z"), "a");
    expect([older, newer, muchNewer].sort()).toEqual([muchNewer, newer, older]);
  });

  it("keeps at most 20 sources in a history row", () => {
    const sources = Array.from({ length: 30 }, (_, index) => ({
      kind: "aci" as const,
      resourceId: RESOURCE(`ci-${index}`),
      subscriptionId: "ed6a948b-ba01-4eea-9471-c147cad379eb",
      resourceGroup: "rg",
      resourceName: `ci-${index}`,
    }));
    const [row] = scanHistoryEntities(scan({ sources }));
    expect(JSON.parse(row?.Sources ?? "[]")).toHaveLength(20);
    expect(row?.SourceCount).toBe(30);
  });

  it("records a digest that only the other digest row knows under its own reference", () => {
    const moved = scan({
      image: { ...parseImageRef(`mcr.microsoft.com/dotnet/runtime@${OTHER_DIGEST}`), tag: "8.0" },
    });
    expect(scanHistoryEntities(moved)[1]?.partitionKey).toBe(
      `mcr.microsoft.com~2Fdotnet~2Fruntime@${OTHER_DIGEST}`,
    );
  });
});
