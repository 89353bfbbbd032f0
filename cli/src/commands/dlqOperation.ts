/**
 * The run shared by `dlq resubmit` and `dlq purge`: peek to find what the selection matches,
 * print the plan, stop there on --dry-run, else settle exactly those dead letters with a progress
 * bar and print what happened to each. Exits 1 when anything selected was left undone.
 */
import { CliError, isCliError } from "../core/cliError.ts";
import { type DeadLetterEntity, selectDeadLetters } from "../core/deadLetters.ts";
import { type SelectionFlags, selectionFromFlags } from "../core/selectionFlags.ts";
import {
  type Operation,
  type OperationPlan,
  operationJson,
  renderOutcome,
  renderPlan,
} from "../core/settlementView.ts";
import type { ScanctlContext } from "./context.ts";

export interface OperationOptions extends SelectionFlags {
  entity: DeadLetterEntity;
  dryRun?: boolean;
  peekLimit: number;
  json?: boolean;
}

export async function runDeadLetterOperation(
  context: ScanctlContext,
  operation: Operation,
  options: OperationOptions,
): Promise<void> {
  const selection = selectionFromFlags(options);
  const queue = context.deadLetterQueue(options.entity);
  const peeked = await queue.peek({ maxMessages: options.peekLimit });
  const plan: OperationPlan = {
    operation,
    source: queue.path,
    target: operation === "resubmit" ? queue.resubmitTo : undefined,
    selected: selectDeadLetters(peeked.deadLetters, selection, context.now()),
  };
  const { terminal } = context;
  const dryRun = options.dryRun === true;
  if (dryRun || plan.selected.length === 0) {
    if (options.json) terminal.json(operationJson(plan, dryRun, undefined, undefined));
    else terminal.out(renderPlan(plan, dryRun));
    if (peeked.truncated)
      terminal.err(`note: only the first ${options.peekLimit} dead letters were examined (--peek-limit)`);
    return;
  }
  if (!options.json) terminal.out(renderPlan(plan, false));

  const progress = terminal.progress(
    operation === "resubmit" ? "resubmitting" : "purging",
    plan.selected.length,
    !options.json,
  );
  const selected = new Set(plan.selected.map((deadLetter) => deadLetter.sequenceNumber));
  const settle = operation === "resubmit" ? queue.resubmit.bind(queue) : queue.purge.bind(queue);
  const report = await settle(selected, {
    onProgress: (handled) => progress.update(handled),
    signal: context.signal,
  });
  progress.stop();

  const failure =
    report.failure === undefined
      ? undefined
      : isCliError(report.failure)
        ? report.failure.message
        : String(report.failure);
  if (options.json) terminal.json(operationJson(plan, false, report, failure));
  else terminal.out(renderOutcome(plan, report, failure));
  if (peeked.truncated)
    terminal.err(`note: only the first ${options.peekLimit} dead letters were examined (--peek-limit)`);

  const undone = report.notAttempted.length + report.notRemoved.length + report.notFound.length;
  if (failure !== undefined || undone > 0) {
    throw new CliError(
      "INCOMPLETE",
      `${operation} incomplete: ${report.settled.length} of ${plan.selected.length} done` +
        (failure === undefined ? "" : ` (${failure})`),
      { cause: report.failure },
    );
  }
}
