import { imageRecordKeys, parseImageRef, type ScanMetadataEntity } from "@qcs/shared";
import { describe, expect, it } from "vitest";
import { Cached } from "../../src/core/cached.ts";
import { applyScanToMetadata } from "../../src/core/scanMetadata.ts";
import { decodeContinuation, encodeContinuation, summarize } from "../../src/core/scanQueries.ts";
import { completedScan, failedScan } from "../support/scans.ts";

function latestRow(repository: string, finishedAt: string, failed = false): ScanMetadataEntity {
  const image = parseImageRef(`myreg.azurecr.io/${repository}:1`);
  const scan = failed ? failedScan({ image, finishedAt }) : completedScan({ image, finishedAt });
  const [key] = imageRecordKeys(image);
  const entity = key && applyScanToMetadata(undefined, scan, key).entity;
  if (!entity) throw new Error("no entity");
  return entity;
}

describe("Cached", () => {
  it("computes once per window, shares a computation in flight, and computes again after the window", async () => {
    let now = 1_000;
    let computed = 0;
    const cached = new Cached(
      60_000,
      async () => ++computed,
      () => now,
    );
    const [first, second] = await Promise.all([cached.get(), cached.get()]);
    expect([first.value, second.value, computed]).toEqual([1, 1, 1]);
    now += 59_999;
    expect((await cached.get()).value).toBe(1);
    now += 1;
    expect(await cached.get()).toEqual({ value: 2, computedAt: now });
  });

  it("computes every time with a window of 0", async () => {
    let computed = 0;
    const cached = new Cached(0, async () => ++computed);
    await cached.get();
    await cached.get();
    expect(computed).toBe(2);
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
