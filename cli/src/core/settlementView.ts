/** What `dlq resubmit` and `dlq purge` print: the plan, and afterwards what happened to each dead letter. */
import { type DeadLetter, groupByReason, imageOf } from "./deadLetters.ts";
import { deadLetterSummaryJson } from "./deadLetterViews.ts";
import type { SettleReport } from "./settlement.ts";
import { formatTime, renderTable } from "./table.ts";

export type Operation = "resubmit" | "purge";

export interface OperationPlan {
  operation: Operation;
  /** The dead-letter queue. */
  source: string;
  /** Where copies go (resubmit). */
  target: string | undefined;
  selected: readonly DeadLetter[];
}

export function renderPlan(plan: OperationPlan, dryRun: boolean): string {
  const count = plan.selected.length;
  const verb = plan.operation === "resubmit" ? `resubmit to ${plan.target}` : "purge";
  const head = `${dryRun ? "would " : ""}${verb}: ${count} dead letter${count === 1 ? "" : "s"} of ${plan.source}`;
  if (count === 0) return head;
  const byReason = renderTable(
    [{ header: "reason" }, { header: "count", align: "right" }],
    groupByReason(plan.selected).map((group) => [group.reason, String(group.count)]),
  );
  return dryRun ? `${head}\n\n${byReason}\n\n${deadLetterRows(plan.selected)}` : `${head}\n\n${byReason}`;
}

export function renderOutcome(
  plan: OperationPlan,
  report: SettleReport,
  failure: string | undefined,
): string {
  const total = plan.selected.length;
  const done = plan.operation === "resubmit" ? "resubmitted" : "purged";
  const lines = [`${done} ${report.settled.length} of ${total}${failure ? `; stopped: ${failure}` : ""}`];
  const list = (sequenceNumbers: readonly bigint[]) => sequenceNumbers.map(String).join(", ");
  if (report.notAttempted.length > 0) {
    lines.push(
      `  ${report.notAttempted.length} not attempted, still dead-lettered: ${list(report.notAttempted)}`,
    );
  }
  if (report.notRemoved.length > 0) {
    lines.push(
      plan.operation === "resubmit"
        ? `  ${report.notRemoved.length} copied but still dead-lettered (resubmitting them again is safe: the repeat copy is dropped as a duplicate where the entity detects duplicates): ${list(report.notRemoved)}`
        : `  ${report.notRemoved.length} could not be removed: ${list(report.notRemoved)}`,
    );
  }
  if (report.notFound.length > 0) {
    lines.push(
      `  ${report.notFound.length} no longer there (removed or locked by another receiver): ${list(report.notFound)}`,
    );
  }
  if (plan.operation === "purge" && report.settled.length > 0) {
    const removed = new Set(report.settled);
    lines.push(
      "",
      deadLetterRows(plan.selected.filter((deadLetter) => removed.has(deadLetter.sequenceNumber))),
    );
  }
  return lines.join("\n");
}

export function operationJson(
  plan: OperationPlan,
  dryRun: boolean,
  report: SettleReport | undefined,
  failure: string | undefined,
) {
  return {
    operation: plan.operation,
    dryRun,
    source: plan.source,
    target: plan.target ?? null,
    selected: plan.selected.length,
    byReason: groupByReason(plan.selected).map((group) => ({ reason: group.reason, count: group.count })),
    items: plan.selected.map(deadLetterSummaryJson),
    ...(report === undefined
      ? {}
      : {
          settled: report.settled.map(String),
          notRemoved: report.notRemoved.map(String),
          notFound: report.notFound.map(String),
          notAttempted: report.notAttempted.map(String),
        }),
    error: failure ?? null,
  };
}

function deadLetterRows(deadLetters: readonly DeadLetter[]): string {
  return renderTable(
    [
      { header: "seq", align: "right" },
      { header: "enqueued" },
      { header: "reason", maxWidth: 28 },
      { header: "image" },
    ],
    deadLetters.map((deadLetter) => [
      deadLetter.sequenceNumber.toString(),
      formatTime(deadLetter.enqueuedAt),
      deadLetter.reason ?? "-",
      imageOf(deadLetter) ?? "-",
    ]),
  );
}
