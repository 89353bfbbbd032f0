/** The summary of a replay as text for a terminal. */
import { renderCoverageTotals } from "../../core/coverageView.ts";
import type { DevSummary, ImageOutcome } from "./summary.ts";

export interface NextSteps {
  /** File with the environment scanctl needs (export lines). */
  envFile: string;
  recorderUrl: string;
  /** Whether the stack keeps running after the summary. */
  running: boolean;
}

export function renderSummary(summary: DevSummary, next: NextSteps): string {
  const seconds = (summary.elapsedMs / 1000).toFixed(1);
  const lines: string[] = [];
  lines.push(
    summary.complete
      ? `Fully processed in ${seconds} s.`
      : `NOT fully processed after ${seconds} s. Still in the pipeline:`,
  );
  for (const item of summary.left) lines.push(`  - ${item}`);
  lines.push("");

  const { replay, ingest, images } = summary;
  const rows: Array<[string, string]> = [
    [
      "replayed",
      `${replay.events} event(s) from ${replay.files} file(s): ${replay.activityLogRecords} Activity Log record(s), ${replay.eventGridEvents} Event Grid event(s), ${replay.cloudEvents} CloudEvent(s)`,
    ],
    [
      "ingest",
      `${ingest.recordsRead} record(s) read, ${ingest.recordsSelected} container write(s) selected` +
        `${formatCounts(ingest.recordsSkipped, " (skipped: ", ")")}, ${ingest.imagesFound} image reference(s) found, ` +
        `${ingest.duplicatesCollapsed} repeat(s) collapsed, ${ingest.requestsSent} request(s) sent`,
    ],
    ["images requested", String(images.requested)],
    ["  scanned", String(images.scanned)],
    ["  skipped as cached", String(images.skippedCached)],
    ["  dead-lettered", `${images.deadLettered}${formatCounts(summary.deadLetters.byReason, "   ", "")}`],
  ];
  if (images.failed > 0) rows.push(["  failed", String(images.failed)]);
  const notRequested = Object.values(images.notRequested).reduce((a, b) => a + b, 0);
  rows.push([
    "not requested",
    `${notRequested}${formatCounts(images.notRequested, "   ", "")}${notRequested > 0 ? " (ingest's log names the resource)" : ""}`,
  ]);
  const givenUp = Object.values(ingest.eventsGivenUp).reduce((a, b) => a + b, 0);
  if (givenUp > 0) {
    rows.push([
      "events given up",
      `${givenUp}${formatCounts(ingest.eventsGivenUp, "   ", "")} (failed past INGEST_RETRY_GIVE_UP_SECONDS; ingest's log names them)`,
    ]);
  }
  const { notifications } = summary;
  rows.push([
    "notifications",
    `${notifications.sent} sent${notifications.failed > 0 ? `, ${notifications.failed} dead-lettered (scanctl dlq list --entity notifications)` : ""}`,
  ]);
  for (const item of notifications.items) rows.push([`  ${item.type}`, item.ref]);
  lines.push(...table(rows.map(([label, value]) => [`  ${label}`, value])));

  if (summary.imageOutcomes.length > 0) {
    lines.push("");
    lines.push(
      ...table([
        ["  IMAGE", "OUTCOME", "RESULTS", "ATTEMPT", "CRITICAL", "HIGH", "MEDIUM", "LOW", "REASON"],
        ...summary.imageOutcomes.map((image) => imageRow(image)),
      ]),
    );
  }

  lines.push("");
  lines.push("Coverage (running images in Workloads against their last scan):");
  lines.push(
    summary.coverage.totals.workloads === 0
      ? "  no workloads in the inventory yet (ingest and its sweep fill Workloads)"
      : `  ${renderCoverageTotals(summary.coverage)}`,
  );

  lines.push("");
  lines.push("Next:");
  lines.push(
    ...table([
      [
        `  source ${next.envFile}`,
        "the settings scanctl needs (connection strings, RECORDER_URL, RECORDER_API_KEY)",
      ],
      ["  npx scanctl dlq list", "dead letters with their reasons; `dlq resubmit` sends them back"],
      ["  npx scanctl coverage", "every running image with its state; exits 1 while any is not current"],
      [
        `  curl -H "Authorization: Bearer $RECORDER_API_KEY" ${next.recorderUrl}/api/scans`,
        "the recorder's API (OpenAPI document at /api/openapi.json)",
      ],
      ...(next.running
        ? [
            [
              "  npx scanctl replay <file|folder>",
              "send your own Activity Log / Event Grid JSON; Ctrl-C stops",
            ],
          ]
        : []),
    ]),
  );
  lines.push("");
  lines.push(`status page: ${statusPageUrl(next.recorderUrl)} (log in with RECORDER_API_KEY)`);
  return `${lines.join("\n")}\n`;
}

/** The recorder's status page (the login form when no session). */
export function statusPageUrl(recorderUrl: string): string {
  return `${recorderUrl.replace(/\/+$/, "")}/`;
}

function imageRow(image: ImageOutcome): string[] {
  const v = image.vulnerabilities;
  const outcome = image.outcome === "skipped-cached" ? "skipped (cached)" : image.outcome;
  return [
    // `tag → digest` where the tag resolved to content; a digest reference is shown as it is.
    image.digest === undefined || image.ref.endsWith(`@${image.digest}`)
      ? `  ${image.ref}`
      : `  ${image.ref} → ${image.digest}`,
    outcome,
    String(image.results),
    image.attempt === undefined ? "-" : String(image.attempt),
    v ? String(v.critical) : "-",
    v ? String(v.high) : "-",
    v ? String(v.medium) : "-",
    v ? String(v.low) : "-",
    image.reason ?? "",
  ];
}

function formatCounts(counts: Record<string, number>, before: string, after: string): string {
  const entries = Object.entries(counts).filter(([, value]) => value > 0);
  if (entries.length === 0) return "";
  return `${before}${entries.map(([key, value]) => `${key} ${value}`).join(", ")}${after}`;
}

/** Left-aligned columns, two spaces apart; the last column is not padded. */
function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, index) => {
      if (index < row.length - 1) widths[index] = Math.max(widths[index] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    row
      .map((cell, index) => (index < row.length - 1 ? cell.padEnd(widths[index] ?? 0) : cell))
      .join("  ")
      .trimEnd(),
  );
}
