/** What `scanctl status` prints. */
import type { EntityCounts } from "./ports.ts";
import { relative } from "./scanViews.ts";
import { renderTable } from "./table.ts";

export type LastScan =
  | { state: "known"; at: string | undefined }
  | { state: "not-configured" }
  | { state: "unavailable"; reason: string };

export function statusJson(counts: readonly EntityCounts[], lastScan: LastScan) {
  return {
    entities: counts,
    lastScanAt: lastScan.state === "known" ? (lastScan.at ?? null) : null,
    recorder:
      lastScan.state === "known"
        ? "ok"
        : lastScan.state === "not-configured"
          ? "not configured"
          : lastScan.reason,
  };
}

export function renderStatus(counts: readonly EntityCounts[], lastScan: LastScan, now: Date): string {
  const table = renderTable(
    [
      { header: "entity" },
      { header: "active", align: "right" },
      { header: "scheduled", align: "right" },
      { header: "dead-lettered", align: "right" },
    ],
    counts.map((row) => [row.entity, String(row.active), String(row.scheduled), String(row.deadLettered)]),
  );
  const last =
    lastScan.state === "known"
      ? lastScan.at === undefined
        ? "none yet"
        : relative(lastScan.at, now)
      : lastScan.state === "not-configured"
        ? "unknown (set RECORDER_URL to ask the recorder)"
        : `unknown (${lastScan.reason})`;
  return `${table}\n\nlast recorded scan: ${last}`;
}
