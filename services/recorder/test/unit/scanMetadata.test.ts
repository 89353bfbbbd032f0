import { imageRecordKeys, parseImageRef, type ScanCompleted, type ScanMetadataEntity } from "@qcs/shared";
import { describe, expect, it } from "vitest";
import {
  applyScanToMetadata,
  isNewerThanStored,
  MAX_RECENT_SCAN_IDS,
  MAX_RESOURCE_IDS,
  resourceIdsOf,
} from "../../src/core/scanMetadata.ts";
import { DIGEST, RESOURCE, scan } from "../support/ruleScans.ts";

function failed(finishedAt: string): ScanCompleted {
  return scan({
    status: "failed",
    finishedAt,
    vulnerabilities: undefined,
    error: { class: "ScanTimeout", message: "qscanner ran longer than 1800 s" },
  });
}

/** Applies results in order to one row, as the recorder does. */
function applyAll(
  results: ScanCompleted[],
  kind: "tag" | "digest" = "digest",
): ScanMetadataEntity | undefined {
  let row: ScanMetadataEntity | undefined;
  for (const result of results) {
    const key = imageRecordKeys(result.image).find((candidate) => candidate.kind === kind);
    if (!key) throw new Error("no key");
    const change = applyScanToMetadata(row, result, key);
    row = change.entity ?? row;
  }
  return row;
}

describe("applyScanToMetadata", () => {
  it("points a tag row at the digest its tag last resolved to, each content change in turn", () => {
    const moved = `sha256:${"cd".repeat(32)}`;
    const movedImage = { ...parseImageRef(`mcr.microsoft.com/dotnet/runtime@${moved}`), tag: "8.0" };
    const first = scan({ finishedAt: "2025-03-14T09:10:00.000Z" });
    const second = scan({ image: movedImage, finishedAt: "2025-03-14T10:10:00.000Z" });
    expect(applyAll([first], "tag")).toMatchObject({ Digest: DIGEST, Tag: "8.0", Alias: true });
    expect(applyAll([first, second], "tag")).toMatchObject({ Digest: moved, LastScanId: second.scanId });
    // The new content was scanned before under another tag: the cached skip still moves the tag row.
    const skipped = scan({
      image: movedImage,
      status: "skipped",
      skipReason: "cached",
      vulnerabilities: undefined,
      qualys: undefined,
      finishedAt: "2025-03-14T11:10:00.000Z",
    });
    expect(applyAll([first, skipped], "tag")).toMatchObject({ Digest: moved, Status: "skipped" });
    // An older result of the old content does not move it back.
    const late = scan({ finishedAt: "2025-03-14T09:30:00.000Z" });
    expect(applyAll([first, second, late], "tag")).toMatchObject({ Digest: moved });
  });

  it("keeps the qscanner version of the latest success, which a later failure does not change", () => {
    const success = scan({ finishedAt: "2025-03-14T09:10:00.000Z" });
    const upgradedFailure = scan({
      status: "failed",
      finishedAt: "2025-03-14T10:10:00.000Z",
      vulnerabilities: undefined,
      scanner: { name: "qscanner", version: "4.9.0-1", mode: "get-report" },
      error: { class: "ScanTimeout", message: "qscanner ran longer than 1800 s" },
    });
    expect(applyAll([success, upgradedFailure])).toMatchObject({
      ScannerVersion: "4.9.0-1",
      LastSuccessScannerVersion: "4.8.0-2",
    });
  });

  it("creates the row from the first result", () => {
    const result = scan();
    const [key] = imageRecordKeys(result.image);
    if (!key) throw new Error("no key");
    const change = applyScanToMetadata(undefined, result, key);
    expect(change.outcome).toBe("created");
    expect(change.entity).toMatchObject({
      partitionKey: "mcr.microsoft.com",
      rowKey: `dotnet~2Fruntime@${DIGEST}`,
      Ref: `mcr.microsoft.com/dotnet/runtime@${DIGEST}`,
      Registry: "mcr.microsoft.com",
      Repository: "dotnet/runtime",
      Tag: "8.0",
      Digest: DIGEST,
      Alias: false,
      Status: "succeeded",
      LastScanId: result.scanId,
      LastScanAt: new Date(result.finishedAt),
      LastSuccessAt: new Date(result.finishedAt),
      ScanCount: 1,
      VulnCritical: 1,
      VulnTotal: 15,
      ScannerVersion: "4.8.0-2",
      QualysImageId: "4406e1e53abc",
      ResourceIds: JSON.stringify([RESOURCE("ci-one")]),
    });
  });

  it("marks the tag row of a result recorded by digest as an alias", () => {
    expect(applyAll([scan()], "tag")?.Alias).toBe(true);
    const tagOnly = scan({ image: parseImageRef("mcr.microsoft.com/dotnet/runtime:8.0") });
    expect(applyAll([tagOnly], "tag")?.Alias).toBe(false);
  });

  it("changes nothing when the same result arrives twice", () => {
    const result = scan();
    const row = applyAll([result]);
    const [key] = imageRecordKeys(result.image);
    if (!row || !key) throw new Error("setup");
    expect(applyScanToMetadata(row, result, key)).toEqual({ outcome: "duplicate" });
  });

  it("keeps the newer latest state when an older result arrives after it, yet counts the older one", () => {
    const newer = failed("2025-03-14T12:00:00.000Z");
    const older = scan({ finishedAt: "2025-03-14T10:00:00.000Z" });
    const row = applyAll([newer]);
    const [key] = imageRecordKeys(older.image);
    if (!row || !key) throw new Error("setup");
    const change = applyScanToMetadata(row, older, key);
    expect(change.outcome).toBe("outOfOrder");
    expect(change.entity).toMatchObject({
      Status: "failed",
      ErrorClass: "ScanTimeout",
      LastScanId: newer.scanId,
      ScanCount: 2,
      LastSuccessAt: new Date(older.finishedAt),
      VulnTotal: 15,
    });
  });

  it("reaches the same row whatever order the results arrive in", () => {
    const results = [
      scan({ finishedAt: "2025-03-14T10:00:00.000Z" }),
      failed("2025-03-14T11:00:00.000Z"),
      scan({
        finishedAt: "2025-03-14T09:30:00.000Z",
        vulnerabilities: { critical: 0, high: 0, medium: 0, low: 1, informational: 0, total: 1 },
      }),
    ];
    const normalise = (row: ScanMetadataEntity | undefined) =>
      row && { ...row, RecentScanIds: row.RecentScanIds.split(",").sort().join(","), ResourceIds: "" };
    const forward = normalise(applyAll(results));
    expect(normalise(applyAll([...results].reverse()))).toEqual(forward);
    expect(normalise(applyAll([results[1], results[0], results[2]] as ScanCompleted[]))).toEqual(forward);
    expect(forward).toMatchObject({ Status: "failed", ScanCount: 3, VulnTotal: 15 });
  });

  it("clears the error once a newer scan succeeds, keeping the findings of the newest success", () => {
    const row = applyAll([
      failed("2025-03-14T10:00:00.000Z"),
      scan({ finishedAt: "2025-03-14T11:00:00.000Z" }),
    ]);
    expect(row).toMatchObject({ Status: "succeeded", ErrorClass: undefined, ErrorMessage: undefined });
  });

  it("breaks ties on equal finish times by scan ID, so replicas agree", () => {
    const a = scan({
      scanId: "00000000-0000-4000-8000-00000000000a",
      finishedAt: "2025-03-14T10:00:00.000Z",
    });
    const b = failed("2025-03-14T10:00:00.000Z");
    const withB = { ...b, scanId: "00000000-0000-4000-8000-00000000000b" };
    expect(applyAll([a, withB])?.LastScanId).toBe(withB.scanId);
    expect(applyAll([withB, a])?.LastScanId).toBe(withB.scanId);
  });

  it("does not let a skipped (cached) result replace a real scan or refresh the last success", () => {
    const real = scan({ finishedAt: "2025-03-14T10:00:00.000Z" });
    const skipped = scan({
      status: "skipped",
      skipReason: "cached",
      finishedAt: "2025-03-14T12:00:00.000Z",
      vulnerabilities: undefined,
      sources: [
        {
          kind: "aca",
          resourceId: RESOURCE("ca-two"),
          subscriptionId: "ed6a948b-ba01-4eea-9471-c147cad379eb",
          resourceGroup: "rg",
          resourceName: "ca-two",
        },
      ],
    });
    const row = applyAll([real, skipped]);
    expect(row).toMatchObject({
      Status: "succeeded",
      LastScanId: real.scanId,
      LastSuccessAt: new Date(real.finishedAt),
      LastSeenAt: new Date(skipped.finishedAt),
      ScanCount: 1,
    });
    expect(row && resourceIdsOf(row)).toEqual([RESOURCE("ca-two"), RESOURCE("ci-one")]);
  });

  it("lets any real scan replace a state that only a skipped result set", () => {
    const skipped = scan({ status: "skipped", skipReason: "cached", finishedAt: "2025-03-14T12:00:00.000Z" });
    const olderReal = failed("2025-03-14T10:00:00.000Z");
    expect(applyAll([skipped, olderReal])).toMatchObject({ Status: "failed", LastScanId: olderReal.scanId });
  });

  it("keeps the last digest known when a newer scan of the tag failed before resolving one", () => {
    const withDigest = scan({ finishedAt: "2025-03-14T10:00:00.000Z" });
    const tagOnly = {
      ...failed("2025-03-14T11:00:00.000Z"),
      image: parseImageRef("mcr.microsoft.com/dotnet/runtime:8.0"),
    };
    const row = applyAll([withDigest, tagOnly], "tag");
    expect(row).toMatchObject({ Status: "failed", Digest: DIGEST, Alias: false });
  });

  it("bounds where-it-runs and the remembered scan IDs", () => {
    const results = Array.from({ length: 40 }, (_, index) =>
      scan({
        startedAt: "2025-03-13T00:00:00.000Z",
        finishedAt: new Date(Date.UTC(2025, 2, 14, 0, index)).toISOString(),
        sources: [
          {
            kind: "aci",
            resourceId: RESOURCE(`ci-${index}`),
            subscriptionId: "ed6a948b-ba01-4eea-9471-c147cad379eb",
            resourceGroup: "rg",
            resourceName: `ci-${index}`,
          },
        ],
      }),
    );
    const row = applyAll(results);
    if (!row) throw new Error("no row");
    expect(resourceIdsOf(row)).toHaveLength(MAX_RESOURCE_IDS);
    expect(resourceIdsOf(row)[0]).toBe(RESOURCE("ci-39"));
    expect(row.RecentScanIds.split(",")).toHaveLength(MAX_RECENT_SCAN_IDS);
    expect(row.ScanCount).toBe(40);
  });
});

describe("isNewerThanStored", () => {
  it("treats a missing row as older than anything", () => {
    expect(isNewerThanStored(scan(), undefined)).toBe(true);
  });

  it("compares finish times", () => {
    const stored = {
      Status: "succeeded" as const,
      LastScanAt: new Date("2025-03-14T10:00:00Z"),
      LastScanId: "x",
    };
    expect(isNewerThanStored(scan({ finishedAt: "2025-03-14T10:00:01Z" }), stored)).toBe(true);
    expect(isNewerThanStored(scan({ finishedAt: "2025-03-14T09:59:59Z" }), stored)).toBe(false);
  });
});
