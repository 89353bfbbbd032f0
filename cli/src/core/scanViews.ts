/**
 * Scan records as the recorder's API returns them (`GET /api/scans`, `/api/images/{ref}`; their
 * schemas are the recorder's own, from `@qcs/shared`), as tables for people.
 */
import type { ImageDetail, LatestScan, VulnerabilityCounts } from "@qcs/shared";
import { formatAge } from "./duration.ts";
import { formatTime, renderTable } from "./table.ts";

const SEVERITY_COLUMNS = [
  { header: "crit", align: "right" },
  { header: "high", align: "right" },
  { header: "med", align: "right" },
  { header: "low", align: "right" },
] as const;

function severities(vulnerabilities: VulnerabilityCounts | undefined): string[] {
  if (vulnerabilities === undefined) return ["-", "-", "-", "-"];
  return [vulnerabilities.critical, vulnerabilities.high, vulnerabilities.medium, vulnerabilities.low].map(
    String,
  );
}

function outcome(scan: {
  status: string;
  skipReason?: string | undefined;
  error?: { class: string } | undefined;
}) {
  if (scan.error) return `${scan.status} (${scan.error.class})`;
  if (scan.skipReason) return `${scan.status} (${scan.skipReason})`;
  return scan.status;
}

export function renderScanList(items: readonly LatestScan[], now: Date, more: boolean): string {
  if (items.length === 0) return "no scans recorded";
  const lines = [
    renderTable(
      [{ header: "image" }, { header: "status" }, { header: "last scan" }, ...SEVERITY_COLUMNS],
      items.map((scan) => [
        scan.ref,
        outcome(scan),
        relative(scan.lastScanAt, now),
        ...severities(scan.vulnerabilities),
      ]),
    ),
  ];
  if (more) lines.push(`(first ${items.length} shown; --limit shows more)`);
  return lines.join("\n");
}

export function renderImageDetail(detail: ImageDetail, now: Date): string {
  const lines = [`image:          ${detail.ref}`];
  const latest = detail.latest;
  if (latest) {
    lines.push(
      `status:         ${outcome(latest)}`,
      `last scan:      ${relative(latest.lastScanAt, now)}`,
      `scans:          ${latest.scanCount ?? "-"}`,
    );
    if (latest.vulnerabilities) {
      const v = latest.vulnerabilities;
      lines.push(
        `findings:       critical ${v.critical}, high ${v.high}, medium ${v.medium}, low ${v.low}, informational ${v.informational} (total ${v.total})`,
      );
    }
    if (latest.error?.message) lines.push(`error:          ${latest.error.message}`);
    for (const [index, resourceId] of (latest.resourceIds ?? []).entries()) {
      lines.push(`${index === 0 ? "runs in:" : ""}`.padEnd(16) + resourceId);
    }
  }
  lines.push("", "history:");
  if (detail.history.items.length === 0) lines.push("  -");
  else {
    lines.push(
      renderTable(
        [
          { header: "finished" },
          { header: "status" },
          { header: "attempt", align: "right" },
          ...SEVERITY_COLUMNS,
          { header: "scan id" },
        ],
        detail.history.items.map((scan) => [
          formatTime(parseTime(scan.finishedAt)),
          outcome(scan),
          scan.attempt === undefined ? "-" : String(scan.attempt),
          ...severities(scan.vulnerabilities),
          scan.scanId,
        ]),
      ),
    );
  }
  return lines.join("\n");
}

/** `2026-11-26T10:00:00Z (5m ago)`. */
export function relative(iso: string | undefined, now: Date): string {
  const at = parseTime(iso);
  if (at === undefined) return "-";
  return `${formatTime(at)} (${formatAge(now.getTime() - at.getTime())} ago)`;
}

function parseTime(iso: string | undefined): Date | undefined {
  if (iso === undefined) return undefined;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}
