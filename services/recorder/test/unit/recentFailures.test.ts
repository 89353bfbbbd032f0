import { parseImageRef } from "@qcs/shared";
import { describe, expect, it } from "vitest";
import { failuresPage, readRecentFailures } from "../../src/core/recentFailures.ts";
import {
  HISTORY_TIMELINE_PARTITION,
  type ScanHistoryEntity,
  scanHistoryEntities,
} from "../../src/core/scanHistory.ts";
import type { HistoryPageRequest } from "../../src/core/scanQueries.ts";
import { completedScan, failedScan } from "../support/scans.ts";

const NOW = Date.parse("2026-12-02T09:00:00.000Z");
const hoursAgo = (hours: number) => new Date(NOW - hours * 3_600_000).toISOString();
const SINCE = new Date(NOW - 24 * 3_600_000);
const A = parseImageRef("myreg.azurecr.io/team/a:1");
const B = parseImageRef("myreg.azurecr.io/team/b:1");

/** The timeline partition as storage pages it: RowKey order (newest first), `limit` rows a page. */
function timelineOf(...scans: Parameters<typeof scanHistoryEntities>[0][]) {
  const rows = scans
    .flatMap(scanHistoryEntities)
    .filter((row) => row.partitionKey === HISTORY_TIMELINE_PARTITION)
    .sort((a, b) => (a.rowKey < b.rowKey ? -1 : 1));
  const pages: number[] = [];
  return {
    pages,
    async timeline({ limit, after }: HistoryPageRequest) {
      pages.push(limit);
      const rest = rows.filter((row) => after === undefined || row.rowKey > after);
      const items = rest.slice(0, limit);
      return rest.length > limit ? { items, after: items.at(-1)?.rowKey } : { items };
    },
  };
}

const failure = (image: typeof A, hours: number, errorClass: "ImageNotFound" | "ScanTimeout") =>
  failedScan({
    image,
    finishedAt: hoursAgo(hours),
    error: { class: errorClass, message: `${errorClass} ${hours}` },
  });

describe("readRecentFailures", () => {
  it("counts the window's failures by reason, most frequent first, with distinct images and remedies", async () => {
    const reader = timelineOf(
      failure(A, 1, "ScanTimeout"),
      completedScan({ image: A, finishedAt: hoursAgo(2) }),
      failure(A, 3, "ImageNotFound"),
      failure(B, 4, "ImageNotFound"),
      failure(B, 25, "ScanTimeout"),
    );
    const recent = await readRecentFailures(reader, SINCE);
    expect(recent.reasons.map(({ reason, count, images }) => [reason, count, images])).toEqual([
      ["ImageNotFound", 2, 2],
      ["ScanTimeout", 1, 1],
    ]);
    expect(recent.reasons[0]?.remedy).toContain("registry has no such image");
    expect(recent.reasons[0]?.lastAt.toISOString()).toBe(hoursAgo(3));
    expect(recent.scanned).toBe(4);
    expect(recent.truncated).toBe(false);
    expect(recent.failures.map((row) => row.ErrorMessage)).toEqual([
      "ScanTimeout 1",
      "ImageNotFound 3",
      "ImageNotFound 4",
    ]);
  });

  it("stops at the row limit and says the counts are a lower bound", async () => {
    const reader = timelineOf(...[1, 2, 3, 4, 5].map((hours) => failure(A, hours, "ScanTimeout")));
    const recent = await readRecentFailures(reader, SINCE, 3);
    expect(recent).toMatchObject({ scanned: 3, truncated: true });
    expect(reader.pages).toEqual([3]);
  });
});

describe("failuresPage", () => {
  it("pages one reason's failures in timeline order", async () => {
    const recent = await readRecentFailures(
      timelineOf(
        ...[1, 2, 3].map((hours) => failure(A, hours, "ImageNotFound")),
        failure(B, 4, "ScanTimeout"),
      ),
      SINCE,
    );
    const message = (rows: ScanHistoryEntity[]) => rows.map((row) => row.ErrorMessage);
    const first = failuresPage(recent, { reason: "ImageNotFound", limit: 2 });
    expect(message(first.items)).toEqual(["ImageNotFound 1", "ImageNotFound 2"]);
    const second = failuresPage(recent, { reason: "ImageNotFound", limit: 2, after: first.after });
    expect(second).toEqual({ items: [recent.failures[2]] });
  });
});
