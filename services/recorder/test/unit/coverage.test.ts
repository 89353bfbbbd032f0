import {
  type ImageKeySource,
  imageRecordKeys,
  parseImageRef,
  type ScanCompleted,
  type ScanMetadataEntity,
  scanCacheKey,
} from "@qcs/shared";
import { describe, expect, it } from "vitest";
import {
  type CoverageWorkload,
  computeCoverage,
  coveragePage,
  coverageStateOf,
  MAX_COVERAGE_RESOURCES,
} from "../../src/core/coverage.ts";
import { applyScanToMetadata } from "../../src/core/scanMetadata.ts";
import { completedScan, DIGEST, failedScan } from "../support/scans.ts";

const NOW = new Date("2026-12-02T12:00:00.000Z");
const SLO = 30;
const hoursAgo = (hours: number) => new Date(NOW.getTime() - hours * 3_600_000).toISOString();
const SUB_A = "11111111-1111-1111-1111-111111111111";
const SUB_B = "22222222-2222-2222-2222-222222222222";

/** ScanMetadata as the recorder writes it: each result applied to every row of its image. */
function recorded(...scans: ScanCompleted[]) {
  const rows = new Map<string, ScanMetadataEntity>();
  const id = (key: { partitionKey: string; rowKey: string }) => `${key.partitionKey}|${key.rowKey}`;
  for (const scan of scans) {
    for (const key of imageRecordKeys(scan.image)) {
      const change = applyScanToMetadata(rows.get(id(key)), scan, key);
      if (change.entity) rows.set(id(key), change.entity);
    }
  }
  return (image: ImageKeySource) => rows.get(id(scanCacheKey(image)));
}

const image = (ref: string) => parseImageRef(ref);
const scanOf = (ref: string, hours: number) =>
  completedScan({ image: image(ref), finishedAt: hoursAgo(hours) });
const failureOf = (ref: string, hours: number) =>
  failedScan({ image: image(ref), finishedAt: hoursAgo(hours) });

function workload(name: string, refs: string[], subscriptionId = SUB_A): CoverageWorkload {
  return {
    resourceId: `/subscriptions/${subscriptionId}/resourceGroups/rg/providers/Microsoft.App/containerApps/${name}`,
    subscriptionId,
    resourceGroup: "rg",
    name,
    kind: "aca",
    images: refs.map((ref, index) => ({ container: `c${index}`, ref: image(ref).ref })),
  };
}

const APP = "myreg.azurecr.io/team/app:1.0";
const API = "myreg.azurecr.io/team/api:2.0";
const WEB = "myreg.azurecr.io/team/web:3.0";
const JOB = "myreg.azurecr.io/team/job:4.0";

describe("coverageStateOf", () => {
  const latestOf = recorded(
    scanOf(APP, 29),
    scanOf(API, 31),
    failureOf(WEB, 1),
    scanOf(JOB, 40),
    failureOf(JOB, 2),
  );
  const state = (ref: string) => coverageStateOf(latestOf(image(ref)), NOW, SLO);

  it("is current when the last success is within the SLO, stale when older, neverScanned when nothing is recorded", () => {
    expect(state(APP)).toBe("current");
    expect(state(API)).toBe("stale");
    expect(state("myreg.azurecr.io/team/other:1")).toBe("neverScanned");
  });

  it("is failing when the latest outcome failed and no success is within the SLO, before stale", () => {
    expect(state(WEB)).toBe("failing");
    expect(state(JOB)).toBe("failing");
  });

  it("stays current when a failure follows a success that is still within the SLO", () => {
    const latest = recorded(scanOf(APP, 10), failureOf(APP, 1))(image(APP));
    expect(latest?.Status).toBe("failed");
    expect(coverageStateOf(latest, NOW, SLO)).toBe("current");
  });

  it("counts the SLO boundary itself as current", () => {
    expect(coverageStateOf(recorded(scanOf(APP, 30))(image(APP)), NOW, SLO)).toBe("current");
  });

  it("is stale when only cached skips are recorded under the reference", () => {
    const skipped = completedScan({
      image: image(APP),
      finishedAt: hoursAgo(1),
      status: "skipped",
      skipReason: "cached",
      vulnerabilities: undefined,
    });
    expect(coverageStateOf(recorded(skipped)(image(APP)), NOW, SLO)).toBe("stale");
  });
});

describe("computeCoverage", () => {
  it("counts distinct images once however many workloads run them, with every workload counted", () => {
    const latestOf = recorded(scanOf(APP, 1), scanOf(API, 100), failureOf(WEB, 1));
    const coverage = computeCoverage(
      {
        workloads: [
          workload("a", [APP, API]),
          workload("b", [APP, APP]),
          workload("c", [WEB, JOB], SUB_B),
          workload("empty", []),
        ],
        lastSweepAt: undefined,
      },
      latestOf,
      { sloHours: SLO, now: NOW },
    );
    expect(coverage.totals).toEqual({
      workloads: 4,
      images: 4,
      current: 1,
      stale: 1,
      failing: 1,
      neverScanned: 1,
    });
    expect(coverage.images.map((item) => [item.ref, item.state, item.workloads])).toEqual([
      [image(API).ref, "stale", 1],
      [image(APP).ref, "current", 2],
      [image(JOB).ref, "neverScanned", 1],
      [image(WEB).ref, "failing", 1],
    ]);
    const app = coverage.images.find((item) => item.ref === image(APP).ref);
    expect(app?.latest?.VulnCritical).toBe(1);
    expect(app?.resources).toEqual([workload("a", []).resourceId, workload("b", []).resourceId]);
  });

  it("narrows workloads, images and totals to one subscription, in any casing", () => {
    const coverage = computeCoverage(
      { workloads: [workload("a", [APP]), workload("b", [APP, WEB], SUB_B)], lastSweepAt: undefined },
      recorded(scanOf(APP, 1)),
      { sloHours: SLO, now: NOW, subscription: SUB_B.toUpperCase() },
    );
    expect(coverage.totals).toMatchObject({ workloads: 1, images: 2, current: 1, neverScanned: 1 });
    expect(coverage.images.find((item) => item.ref === image(APP).ref)?.workloads).toBe(1);
  });

  it("finds a tag by its tag row (written by a scan by digest) and a digest reference by its digest row", () => {
    const scan = completedScan({
      image: { ...image(`myreg.azurecr.io/team/app@${DIGEST}`), tag: "1.0" },
      finishedAt: hoursAgo(2),
    });
    const coverage = computeCoverage(
      { workloads: [workload("a", [APP, `myreg.azurecr.io/team/app@${DIGEST}`])], lastSweepAt: undefined },
      recorded(scan),
      { sloHours: SLO, now: NOW },
    );
    expect(coverage.images.map((item) => item.state)).toEqual(["current", "current"]);
  });

  it("lists at most 20 resources of an image and says when it left some out", () => {
    const many = Array.from({ length: MAX_COVERAGE_RESOURCES + 5 }, (_, i) =>
      workload(`w${String(i).padStart(2, "0")}`, [APP]),
    );
    const [item] = computeCoverage({ workloads: many, lastSweepAt: undefined }, recorded(), {
      sloHours: SLO,
      now: NOW,
    }).images;
    expect(item?.workloads).toBe(MAX_COVERAGE_RESOURCES + 5);
    expect(item?.resources).toHaveLength(MAX_COVERAGE_RESOURCES);
    expect(item?.resourcesTruncated).toBe(true);
  });

  it("is all zeros when no workload is known", () => {
    const coverage = computeCoverage({ workloads: [], lastSweepAt: undefined }, recorded(scanOf(APP, 1)), {
      sloHours: SLO,
      now: NOW,
    });
    expect(coverage).toEqual({
      totals: { workloads: 0, images: 0, current: 0, stale: 0, failing: 0, neverScanned: 0 },
      images: [],
    });
  });
});

describe("coveragePage", () => {
  const coverage = computeCoverage(
    { workloads: [workload("a", [APP, API, WEB, JOB])], lastSweepAt: undefined },
    recorded(scanOf(APP, 1), scanOf(API, 1)),
    { sloHours: SLO, now: NOW },
  );

  it("pages in reference order and ends without a cursor", () => {
    const first = coveragePage(coverage, { limit: 3 });
    expect(first.items).toHaveLength(3);
    const second = coveragePage(coverage, { limit: 3, after: first.after });
    expect(second).toEqual({ items: [coverage.images[3]], matched: 4 });
  });

  it("narrows to a registry (any casing) and to findings at or above a severity, counting every match", () => {
    const refs = (page: { items: Array<{ ref: string }> }) => page.items.map((item) => item.ref);
    const critical = coveragePage(coverage, { minSeverity: "critical", limit: 1 });
    expect(refs(critical)).toEqual([image(API).ref]);
    expect(critical.matched).toBe(2);
    expect(coveragePage(coverage, { registry: "MYREG.azurecr.io", limit: 10 }).matched).toBe(4);
    expect(coveragePage(coverage, { registry: "docker.io", limit: 10 })).toEqual({ items: [], matched: 0 });
  });

  it("filters by state without changing the order", () => {
    const page = coveragePage(coverage, { state: "neverScanned", limit: 1 });
    expect(page.items.map((item) => item.ref)).toEqual([image(JOB).ref]);
    expect(coveragePage(coverage, { state: "neverScanned", limit: 1, after: page.after }).items).toEqual([
      coverage.images.find((item) => item.ref === image(WEB).ref),
    ]);
  });
});
