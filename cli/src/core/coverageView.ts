/** What `scanctl coverage` prints, from the recorder's `GET /api/coverage` answer. */
import type { CoverageItem, CoverageTotals, CoverageView } from "@qcs/shared";
import { formatAge } from "./duration.ts";
import { relative } from "./scanViews.ts";
import { renderTable } from "./table.ts";

/** Images that fail the gate: anything but `current`. */
export function uncoveredCount(totals: CoverageTotals): number {
  return totals.stale + totals.failing + totals.neverScanned;
}

export function renderCoverageTotals(coverage: Pick<CoverageView, "sloHours" | "totals">): string {
  const t = coverage.totals;
  return (
    `${t.workloads} workloads run ${t.images} images: ${t.current} current, ${t.stale} stale, ` +
    `${t.failing} failing, ${t.neverScanned} never scanned (SLO ${coverage.sloHours} h)`
  );
}

export function renderCoverage(coverage: CoverageView, items: readonly CoverageItem[], now: Date): string {
  const lines = [
    renderCoverageTotals(coverage),
    `last sweep: ${coverage.lastSweepAt === null ? "none recorded" : relative(coverage.lastSweepAt, now)}; ` +
      `computed ${relative(coverage.computedAt, now)}`,
  ];
  if (items.length === 0) return lines.join("\n");
  lines.push(
    "",
    renderTable(
      [
        { header: "state" },
        { header: "image" },
        { header: "last scan", align: "right" },
        { header: "workloads", align: "right" },
        { header: "crit", align: "right" },
        { header: "high", align: "right" },
      ],
      items.map((item) => [
        item.lastStatus === "failed" && item.state !== "failing" ? `${item.state} (last failed)` : item.state,
        item.ref,
        item.lastScanAt === undefined
          ? "never"
          : `${formatAge(now.getTime() - Date.parse(item.lastScanAt))} ago`,
        String(item.workloads),
        String(item.vulnerabilities?.critical ?? "-"),
        String(item.vulnerabilities?.high ?? "-"),
      ]),
    ),
  );
  return lines.join("\n");
}
