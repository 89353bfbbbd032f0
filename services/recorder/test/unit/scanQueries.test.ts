import { imageRecordKeys, parseImageRef, type ScanMetadataEntity } from "@qcs/shared";
import { describe, expect, it } from "vitest";
import { applyScanToMetadata } from "../../src/core/scanMetadata.ts";
import {
  decodeContinuation,
  encodeContinuation,
  type LatestCursor,
  pageLatest,
  summarize,
} from "../../src/core/scanQueries.ts";
import { completedScan, failedScan } from "../support/scans.ts";

function latestRow(repository: string, finishedAt: string, failed = false): ScanMetadataEntity {
  const image = parseImageRef(`myreg.azurecr.io/${repository}:1`);
  const scan = failed ? failedScan({ image, finishedAt }) : completedScan({ image, finishedAt });
  const [key] = imageRecordKeys(image);
  const entity = key && applyScanToMetadata(undefined, scan, key).entity;
  if (!entity) throw new Error("no entity");
  return entity;
}

describe("pageLatest", () => {
  const rows = [
    latestRow("a", "2025-03-14T10:00:00Z"),
    latestRow("b", "2025-03-14T12:00:00Z"),
    latestRow("c", "2025-03-14T11:00:00Z"),
    latestRow("d", "2025-03-14T11:00:00Z"),
    latestRow("e", "2025-03-14T09:00:00Z"),
  ];

  it("lists newest first and hands out a cursor while more rows follow", () => {
    const first = pageLatest(rows, 2);
    expect(first.items.map((row) => row.Repository)).toEqual(["b", "c"]);
    const second = pageLatest(rows, 2, first.next);
    expect(second.items.map((row) => row.Repository)).toEqual(["d", "a"]);
    const third = pageLatest(rows, 2, second.next);
    expect(third.items.map((row) => row.Repository)).toEqual(["e"]);
    expect(third.next).toBeUndefined();
  });

  it("neither repeats nor skips rows when a page ends between equal times", () => {
    const seen: string[] = [];
    let after: LatestCursor | undefined;
    do {
      const page = pageLatest(rows, 1, after);
      seen.push(...page.items.map((row) => row.Repository));
      after = page.next;
    } while (after);
    expect(seen).toEqual(["b", "c", "d", "a", "e"]);
  });
});

describe("summarize", () => {
  it("counts images by status, adds up findings and finds the last scan", () => {
    const stats = summarize([
      latestRow("a", "2025-03-14T10:00:00Z"),
      latestRow("b", "2025-03-14T12:00:00Z", true),
      latestRow("c", "2025-03-14T11:00:00Z"),
    ]);
    expect(stats).toEqual({
      images: 3,
      byStatus: { succeeded: 2, failed: 1, skipped: 0 },
      vulnerabilities: { critical: 2, high: 4, medium: 6, low: 8, informational: 10, total: 30 },
      lastScanAt: new Date("2025-03-14T12:00:00Z"),
    });
  });

  it("reports no last scan when nothing was recorded", () => {
    expect(summarize([]).lastScanAt).toBeUndefined();
  });
});

describe("continuation tokens", () => {
  it("round-trip and reject garbage", () => {
    const token = encodeContinuation({ a: 1 });
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeContinuation(token)).toEqual({ a: 1 });
    expect(decodeContinuation("!!!")).toBeUndefined();
  });
});
