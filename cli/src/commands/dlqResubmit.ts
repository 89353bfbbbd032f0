/** `scanctl dlq resubmit`: send selected dead letters back to be processed again. */
import type { Command } from "commander";
import type { ScanctlContext } from "./context.ts";
import { type OperationOptions, runDeadLetterOperation } from "./dlqOperation.ts";
import { addFilterOptions, collect, entityOption, jsonOption, peekLimitOption } from "./options.ts";

export function registerDlqResubmit(dlq: Command, context: ScanctlContext): void {
  addFilterOptions(
    dlq
      .command("resubmit")
      .description(
        "send a copy of each selected dead letter to its main entity (new messageId, same body, " +
          "resubmittedFrom=<sequence number>), then remove the dead letter; if sending fails it stays",
      )
      .addOption(entityOption())
      .option(
        "--seq <sequenceNumber>",
        "a dead letter's sequence number (repeatable, or comma-separated)",
        collect,
      ),
  )
    .option("--all", "every dead letter of the entity")
    .option("--dry-run", "show what would be resubmitted; change nothing")
    .addOption(peekLimitOption())
    .addOption(jsonOption())
    .addHelpText(
      "after",
      "\nFilters combine with AND. Results (--entity results) go back to the scan-completed topic: Service Bus\n" +
        "cannot send to one subscription (see README, Operating: scanctl).",
    )
    .action((options: OperationOptions) => runDeadLetterOperation(context, "resubmit", options));
}
